"""The hostile battery for compiled programs: C++ programs (MultiPL-E's script shape, the
same sandbox and judge as the polyglot exercises') that fork, fill the disk, read /proc,
open sockets, or never finish building. Each must fail, leak no secret and leave no
process behind; the shape-free attacks in Python run against both shapes too
(test_hostile.py, through hostile.py's adapters)."""

from __future__ import annotations

import os
import socket

import pytest

from koderz.records import ExecResult, Problem, ScriptTests
from koderz.sandbox import Limits, run_tests
from koderz.sandbox.languages import missing
from tests.sandbox.hostile import PLANTED, SECRET, sandbox_processes

pytestmark = [pytest.mark.slow, PLANTED]

LIMITS = Limits(timeout_s=20.0, processes=64, disk_bytes=32 << 20, file_size_bytes=8 << 20)
HEAD = "#include <bits/stdc++.h>\n#include <unistd.h>\n#include <sys/socket.h>\n"
HEAD += "#include <netinet/in.h>\n#include <arpa/inet.h>\nusing namespace std;\n"


def attack(body: str, *, limits: Limits = LIMITS) -> ExecResult:
    """Judge the C++ program ``HEAD + body`` (exit 0 only if its attack won) and hold it to
    what every attack must: fail, leak nothing, leave nothing running."""
    why = missing("cpp")
    if why is not None:
        pytest.skip(why)
    problem = Problem("hostile/cpp", "", ScriptTests("cpp", ""), language="cpp")
    r = run_tests(problem, HEAD + body, limits=limits)
    assert not r.passed, r
    assert SECRET not in repr(r), "a secret leaked into the result"
    if os.geteuid() == 0:
        assert sandbox_processes() == [], "a process of the program is still running"
    return r


@pytest.mark.timeout(120)
def test_fork_bomb() -> None:
    r = attack("int main() { while (true) fork(); }\n")
    assert r.status in ("timeout", "failed")


@pytest.mark.timeout(120)
def test_disk_filler() -> None:
    # The tmpfs (32 MiB) and the file size limit (8 MiB) stop it; nothing lands on the host.
    r = attack(
        "int main() {\n"
        "  string block(1 << 20, 'x');\n"
        "  for (int i = 0; i < 4096; ++i) {\n"
        '    FILE* f = fopen(("fill" + to_string(i)).c_str(), "w");\n'
        "    if (!f || fwrite(block.data(), 1, block.size(), f) != block.size()) return 1;\n"
        "    if (fclose(f) != 0) return 1;\n"
        "  }\n"
        "  return 0;\n"
        "}\n"
    )
    assert r.status == "failed"
    assert not any(p.name.startswith("fill") for p in os.scandir("."))


@pytest.mark.timeout(120)
def test_reads_proc_and_the_environment() -> None:
    # Every environ it can read, its own and others', printed: no secret may be among them.
    attack(
        "int main() {\n"
        "  for (int pid = 1; pid < 4096; ++pid) {\n"
        '    ifstream f("/proc/" + to_string(pid) + "/environ");\n'
        "    string s((istreambuf_iterator<char>(f)), istreambuf_iterator<char>());\n"
        '    if (!s.empty()) cout << pid << ": " << s << endl;\n'
        "  }\n"
        "  for (char** e = environ; *e; ++e) cout << *e << endl;\n"
        "  return 1;\n"
        "}\n"
    )


@pytest.mark.timeout(120)
def test_opens_sockets() -> None:
    # A server of the host's on 127.0.0.1, and an address outside: neither is reachable.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        r = attack(
            "int reach(const char* ip, int port) {\n"
            "  int s = socket(AF_INET, SOCK_STREAM, 0);\n"
            "  if (s < 0) return 0;\n"
            "  sockaddr_in a{}; a.sin_family = AF_INET; a.sin_port = htons(port);\n"
            "  inet_pton(AF_INET, ip, &a.sin_addr);\n"
            "  return connect(s, (sockaddr*)&a, sizeof a) == 0;\n"
            "}\n"
            f'int main() {{ return reach("127.0.0.1", {port}) || reach("1.1.1.1", 53) ? 0 : 1; }}\n'
        )
        server.settimeout(0.1)
        with pytest.raises(OSError):
            server.accept()
    assert r.status == "failed"


@pytest.mark.timeout(120)
def test_a_build_that_never_ends_is_killed_at_its_deadline() -> None:
    # The compiler reads an endless file: the build's deadline (half the sample's) ends it.
    r = attack('#include "/dev/zero"\nint main() { return 0; }\n', limits=Limits(timeout_s=6.0))
    assert r.status in ("timeout", "syntax_error", "memory")


@pytest.mark.timeout(120)
def test_cannot_poison_the_shared_caches() -> None:
    # The toolchain cache (Go's build cache, Catch's main, jest, the jars, vendored crates)
    # and the Rust toolchain serve every candidate after this one: they are read-only.
    targets = ["/opt/koderz/cache/poison", "/opt/koderz/cache/go/build/poison"]
    targets += ["/opt/koderz/rust/bin/poison", "/usr/bin/poison", "/etc/alternatives/poison"]
    opens = " || ".join(f'fopen("{t}", "w") != nullptr' for t in targets)
    r = attack(f"int main() {{ return ({opens}) ? 0 : 1; }}\n")
    assert r.status == "failed"
