// A tiny test harness of Koderz's own, standing in for Catch (whose summary it prints).
#pragma once
#include <cstdio>
#include <functional>
#include <vector>

namespace check {
struct Case { const char* name; std::function<bool()> run; };
inline std::vector<Case>& cases() { static std::vector<Case> all; return all; }
struct Add { Add(const char* n, std::function<bool()> f) { cases().push_back({n, f}); } };
}

#define CHECK_CASE(name) \
    static bool name(); \
    static check::Add add_##name(#name, name); \
    static bool name()
#define CHECK_EQ(a, b) do { if (!((a) == (b))) { std::printf("FAILED: %s == %s\n", #a, #b); return false; } return true; } while (0)
