"""The build shape on the host: an exercise in another language, built and tested by its
own test command (Aider's polyglot exercises).

The language's module (``koderz/sandbox/languages/``) gives the commands and the edits the
benchmark makes to the tests; this module merges the files of a run (the exercise as
shipped, the candidate's solution files, then the exercise's test files again, so a
candidate that writes a test file changes nothing), fetches what the exercise needs once,
outside any sandbox (:func:`prepare`), and says what the judge's half
(``judge/build.py``) runs.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from koderz.errors import ConfigError, SandboxError
from koderz.extract import whole_files
from koderz.records import BuildTests, Problem
from koderz.sandbox.cases import Cases, SandboxSpec
from koderz.sandbox.languages import (
    INSIDE,
    Step,
    cache_dir,
    language,
    missing,
    sandbox_binds,
)
from koderz.sandbox.limits import Limits

__all__ = ["SHAPE", "BuildShape", "plan_of", "prepare"]

SANDBOX_PATH = f"{INSIDE}/rust/bin:/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin"
"""PATH in a build sandbox: the system's tools, Go's, and the Rust toolchain."""


@dataclass(frozen=True)
class BuildPlan:
    """An exercise's run, prepared once: its files as every run lays them, and commands."""

    folder: str
    """The folder the files are laid in (the exercise's name: CMake names the test by it)."""
    files: tuple[tuple[str, str], ...]
    """The exercise's files with the benchmark's edits, and what :func:`prepare` added."""
    test_files: tuple[tuple[str, str], ...]
    """The test files, laid last (over anything a candidate wrote)."""
    links: tuple[tuple[str, str], ...]
    """Symbolic links laid beside them (jest's node_modules)."""
    build: tuple[Step, ...]
    test: tuple[Step, ...]
    check: tuple[Step, ...]
    """The build when the tests do not run (the test steps build the program otherwise)."""
    counts: tuple[tuple[str, str], ...]
    """Patterns of the runner's counts of passed and failed tests."""
    empty: str = ""
    """What the runner says when it found no test to run (its exit status alone is then the
    verdict); '' where it says nothing of the kind."""
    not_built: str = ""
    """What a failed test command says when the program did not build (Go's, which builds
    and tests in one command; Java's, whose compiler builds the solution and then the tests
    in one JVM); '' where the build is a step of its own."""


def _steps(steps: tuple[Step, ...]) -> list[Any]:
    return [(list(s.argv), list(s.env), ".") for s in steps]


class BuildShape:
    """An exercise built and tested by its language's commands (see ``languages/``)."""

    name = "build"

    @property
    def sandbox(self) -> SandboxSpec:
        return _sandbox()

    def default_limits(self) -> Limits:
        # Compilers are big processes with many threads: the Python shape's limits would
        # stop javac, rustc and the JVM before the candidate's code ever ran.
        return Limits(
            timeout_s=240.0,
            cpu_s=600,
            # Address space, not memory: the JVM, V8 and Go reserve gigabytes (V8 more than
            # 16 GiB for jest with workers: parallel-letter-frequency), and each thread its
            # stack (bank-account's test starts a thousand threads of 8 MiB).
            memory_bytes=64 << 30,
            file_size_bytes=1 << 30,
            disk_bytes=2 << 30,
            # Threads count too: an exercise's test may start a thousand (bank-account).
            processes=4096,
            output_bytes=1 << 15,
        )

    def plan(self, problem: Problem) -> BuildPlan:
        return plan_of(_exercise(problem))

    def cases(self, plan: BuildPlan) -> Cases:
        return Cases(kinds=("loop",), labels=(f"the tests of {plan.folder}",), prelude="the build")

    def tests(self, plan: BuildPlan, problem: Problem) -> dict[str, Any]:
        # Build only (what an experiment sees of an exercise): no test step; the judge
        # passes the one case once the build steps succeed.
        build_only = _tests(problem).build_only
        return {
            "build": _steps(plan.build + plan.check if build_only else plan.build),
            "test": [] if build_only else _steps(plan.test),
            "counts": [list(c) for c in plan.counts],
            "syntax": plan.not_built,
            "empty": plan.empty,
        }

    def program(self, problem: Problem, code: str) -> dict[str, Any]:
        tests = _tests(problem)
        plan = plan_of(_exercise(problem))
        written = candidate_files(tests, code)
        # The test files last: the exercise's, or a tester's in their place (never prepared
        # outside the sandbox: the plan is the exercise's own).
        files = {**dict(plan.files), **written, **dict(plan.test_files), **dict(tests.own_test)}
        return {
            "shape": self.name,
            "folder": plan.folder,
            "files": files,
            "links": list(plan.links),
        }

    def sample_limits(
        self, plan: BuildPlan, problem: Problem, limits: Limits, *, chosen: bool
    ) -> tuple[Limits, dict[str, Any]]:
        return limits, {}  # the build and the tests share the sample's deadline


SHAPE = BuildShape()


@functools.lru_cache(maxsize=1)
def _sandbox() -> SandboxSpec:
    return SandboxSpec(binds=sandbox_binds(), env=(("PATH", SANDBOX_PATH),))


def _exercise(problem: Problem) -> BuildTests:
    """The exercise as shipped: what is prepared and planned, whatever a run lays over it."""
    return replace(_tests(problem), build_only=False, own_test=())


def _tests(problem: Problem) -> BuildTests:
    if not isinstance(problem.tests, BuildTests):
        raise ConfigError(f"{problem.task_id} is not an exercise of the build shape")
    return problem.tests


def candidate_files(tests: BuildTests, code: str) -> dict[str, str]:
    """The files of a candidate the worker may write: ``code`` is their listing in the
    whole-file format (what :func:`koderz.extract.program_of` makes of a reply), or, when it
    holds none, the one solution file's text (the first solution file, for an exercise with
    a header and a source)."""
    if not code.strip():
        return {}  # nothing written: the shipped files stay
    listed = whole_files(code)
    if not listed:
        return {_main_file(tests): code}
    return {path: text for path, text in listed.items() if tests.may_write(path)}


def _main_file(tests: BuildTests) -> str:
    sources = [p for p in tests.solution if not p.endswith((".h", ".toml", ".txt", ".json"))]
    return (sources or list(tests.solution))[0]


@functools.lru_cache(maxsize=512)
def plan_of(tests: BuildTests) -> BuildPlan:
    """The exercise's files and commands, prepared once per exercise (its dependencies
    fetched by :func:`prepare`).

    Raises:
        SandboxError: The language cannot run here, or its dependencies cannot be had.
    """
    module = language(tests.language)
    why = missing(tests.language)
    if why is not None:
        raise SandboxError(why)
    shipped = module.lay(dict(tests.files))
    extra = prepare(tests)
    test_files = {path: shipped.get(path, "") for path in tests.test}
    folder = tests.folder.rstrip("/").rpartition("/")[2] or "exercise"
    steps = module.steps(shipped, folder)
    return BuildPlan(
        folder=folder,
        files=tuple({**shipped, **extra}.items()),
        test_files=tuple(test_files.items()),
        links=tuple(getattr(module, "LINKS", ())),
        build=tuple(s for s in steps if s.phase == "build"),
        test=tuple(s for s in steps if s.phase == "test"),
        check=tuple(s for s in steps if s.phase == "check"),
        counts=tuple(module.COUNTS),
        not_built=getattr(module, "NOT_BUILT", ""),
        empty=getattr(module, "EMPTY", ""),
    )


@functools.lru_cache(maxsize=512)
def prepare(tests: BuildTests) -> dict[str, str]:
    """Fetch an exercise's dependencies and warm its language's caches, once, outside any
    sandbox; the files that point its build at them.

    Raises:
        SandboxError: They cannot be had (the message says why).
    """
    module = language(tests.language)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    files = {**module.lay(dict(tests.files)), **dict(tests.example)}
    try:
        return dict(module.prepare(files, cache))
    except (OSError, TimeoutError) as e:
        raise SandboxError(f"{tests.language}: could not prepare the exercise: {e}") from e
