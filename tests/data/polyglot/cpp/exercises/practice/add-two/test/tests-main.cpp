#include <cstdio>

#include "check.h"

int main() {
    int passed = 0, failed = 0;
    for (auto& c : check::cases()) {
        if (c.run()) ++passed; else ++failed;
    }
    if (failed == 0) {
        std::printf("All tests passed (%d assertions in %d test cases)\n", passed, passed);
        return 0;
    }
    std::printf("test cases: %d | %d passed | %d failed\n", passed + failed, passed, failed);
    return 1;
}
