"""C++ exercises: CMake with ``EXERCISM_RUN_ALL_TESTS`` and ``make`` (Aider's
``cpp-test.sh``); the exercise's own CMakeLists builds the Catch tests and runs them.

Catch's main (``test/tests-main.cpp``, the same in every exercise) takes most of a build's
time. Koderz compiles it once per version of it and of the CMakeLists, outside any
sandbox, with the exercise's own CMake, into its cache; a candidate's build copies that
object in after configuring, newer than its sources, so ``make`` compiles only the
candidate's files and the tests. The cache is read-only in the sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from koderz.sandbox.languages.base import CACHE, Step, cache_dir, digest

NAME = "cpp"
ALIASES: tuple[str, ...] = ()
TOOLS = ("g++", "cmake", "make")
HOW = "apt-get install g++ cmake make"
TESTS = r"(?m)^\s*TEST_CASE\s*\("
"""How a test is declared in a test file (what a tester's tests are counted by)."""
COUNTS = (
    (r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", "passed"),
    (r"test cases:\s*\d+\s*\|\s*(\d+) passed", "passed"),
    (r"test cases:[^\n]*?(\d+) failed", "failed"),
)
_MAIN = "test/tests-main.cpp"
_CONFIGURE = (
    "cmake",
    "-S",
    ".",
    "-B",
    "build",
    "-DEXERCISM_RUN_ALL_TESTS=1",
    "-G",
    "Unix Makefiles",
)


def lay(files: dict[str, str]) -> dict[str, str]:
    return files


def _key(files: dict[str, str]) -> str | None:
    if _MAIN not in files or "CMakeLists.txt" not in files:
        return None
    parts = [files[_MAIN], files.get("test/catch.hpp", ""), files["CMakeLists.txt"], _compiler()]
    return digest("\0".join(parts))


def _compiler() -> str:
    try:
        return subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return ""


def _object(name: str) -> str:
    return f"build/CMakeFiles/{name}.dir/test/tests-main.cpp.o"


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    # The exercise's executable is its folder's name, which the sandbox keeps.
    prebuilt: tuple[Step, ...] = ()
    key = _key(files)
    if key and (cache_dir() / "cpp" / f"{key}.o").is_file():
        target = _object(name)
        prebuilt = (
            Step("build", ("mkdir", "-p", os.path.dirname(target))),
            Step("build", ("cp", f"{CACHE}/cpp/{key}.o", target)),
        )
    return (
        Step("build", _CONFIGURE),
        *prebuilt,
        Step("build", ("make", "-C", "build", "--no-print-directory", name)),
        Step("test", ("make", "-C", "build", "--no-print-directory")),
    )


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    return {"program.cpp": source}, (
        Step("build", ("g++", "-std=c++17", "-o", "program", "program.cpp")),
        Step("test", ("./program",)),
    )


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    """Compile Catch's main once, with the exercise's own CMake, into the cache."""
    key = _key(files)
    if key is None:
        return {}
    target = cache / "cpp" / f"{key}.o"
    if target.is_file():
        return {}
    # CMake names the sources after the folder: <name>_test.cpp, with - for _.
    tests = [p[: -len("_test.cpp")] for p in files if p.endswith("_test.cpp") and "/" not in p]
    if not tests:
        return {}
    name = tests[0]
    with tempfile.TemporaryDirectory(prefix="koderz-cpp-") as tmp:
        folder = Path(tmp) / name
        for path, text in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text)
        for argv in (_CONFIGURE, ("make", "-k", "-C", "build", name)):
            subprocess.run(argv, cwd=folder, capture_output=True, timeout=900)
        built = folder / _object(name)
        if built.is_file():  # else the exercise builds it from scratch, as it ships
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(built, target.with_suffix(".tmp"))
            os.replace(target.with_suffix(".tmp"), target)
    return {}
