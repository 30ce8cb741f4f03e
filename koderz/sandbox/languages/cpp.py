"""C++ exercises: CMake with ``EXERCISM_RUN_ALL_TESTS`` and ``make`` (Aider's
``cpp-test.sh``); the exercise's own CMakeLists builds the Catch tests and runs them."""

from __future__ import annotations

from pathlib import Path

from koderz.sandbox.languages.base import Step

NAME = "cpp"
ALIASES: tuple[str, ...] = ()
TOOLS = ("g++", "cmake", "make")
HOW = "apt-get install g++ cmake make"
COUNTS = (
    (r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", "passed"),
    (r"test cases:\s*\d+\s*\|\s*(\d+) passed", "passed"),
    (r"test cases:[^\n]*?(\d+) failed", "failed"),
)


def lay(files: dict[str, str]) -> dict[str, str]:
    return files


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files
    configure = (
        "cmake",
        "-S",
        ".",
        "-B",
        "build",
        "-DEXERCISM_RUN_ALL_TESTS=1",
        "-G",
        "Unix Makefiles",
    )
    # The exercise's executable is its folder's name, which the sandbox keeps.
    return (
        Step("build", configure),
        Step("build", ("make", "-C", "build", "--no-print-directory", name)),
        Step("test", ("make", "-C", "build", "--no-print-directory")),
    )


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    return {"program.cpp": source}, (
        Step("build", ("g++", "-std=c++17", "-o", "program", "program.cpp")),
        Step("test", ("./program",)),
    )


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    del files, cache
    return {}
