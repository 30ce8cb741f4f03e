"""Aider's polyglot benchmark: a checkout of ``polyglot-benchmark``, one folder per
Exercism exercise, ``<language>/exercises/practice/<exercise>/``.

Each exercise's ``.meta/config.json`` names its solution files (what the worker writes),
test files (restored before every run) and example files (the reference solution);
``.docs/`` holds its instructions. Task ids are ``<language>/<exercise>``; the languages
are cpp, go, java, javascript, python and rust. The problems are of the ``build`` shape
(:class:`~koderz.records.BuildTests`): the exercise's own test command judges them.

Examples:
    >>> from pathlib import Path
    >>> problems = load(Path("tests/data/polyglot"))
    >>> sorted(problems)[:2]
    ['cpp/add-two', 'go/add-two']
    >>> problems["go/add-two"].tests.solution
    ('add_two.go',)
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from koderz.errors import ProblemFileError
from koderz.records import BuildTests, Problem

__all__ = ["LANGUAGES", "is_checkout", "load"]

LANGUAGES = ("cpp", "go", "java", "javascript", "python", "rust")
"""The checkout's languages, as its folders name them."""

_NOT_FILES = (".meta/", ".docs/", ".approaches/", ".articles/", "gradle/", ".aider")
_NOT_NAMES = {"gradlew", "gradlew.bat", ".eslintrc", ".npmrc", "LICENSE"}
# Aider's benchmark never lets the worker edit these, whatever the config says.
_NEVER_WRITTEN = {"CMakeLists.txt", "Cargo.toml"}


def _practice(root: Path) -> list[tuple[str, Path]]:
    """``(language, exercise folder)`` of every exercise under ``root``: a checkout, one
    language's folder, or one exercise."""
    if (root / ".meta" / "config.json").is_file():
        return [(root.parents[2].name, root)]
    bases = [(lang, root / lang / "exercises" / "practice") for lang in LANGUAGES]
    if root.name in LANGUAGES:
        bases.append((root.name, root / "exercises" / "practice"))
    return [
        (lang, folder)
        for lang, base in bases
        if base.is_dir()
        for folder in sorted(base.iterdir())
        if (folder / ".meta" / "config.json").is_file()
    ]


def is_checkout(path: Path) -> bool:
    """Whether ``path`` is a folder of polyglot exercises."""
    return path.is_dir() and bool(_practice(path))


def load(root: Path, *, only: Collection[str] | None = None) -> dict[str, Problem]:
    """The exercises under ``root`` as problems, by task id, in language then exercise
    order.

    Raises:
        ProblemFileError: An exercise's config is malformed, or ``root`` holds none.
    """
    problems: dict[str, Problem] = {}
    for lang, folder in _practice(root):
        task_id = f"{lang}/{folder.name}"
        if only is not None and task_id not in only:
            continue
        problems[task_id] = exercise(folder, lang)
    if not problems and only is None:
        raise ProblemFileError(
            "holds no polyglot exercises (<language>/exercises/practice/<exercise>/ with "
            ".meta/config.json)",
            path=str(root),
        )
    return problems


def exercise(folder: Path, lang: str) -> Problem:
    """One exercise folder as a problem of the build shape."""
    config_path = folder / ".meta" / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        named = config["files"]
        solution = [p for p in named.get("solution", []) if p not in _NEVER_WRITTEN]
        test = list(named.get("test", []))
        example = list(named.get("example", []))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ProblemFileError(f"cannot read its files ({e})", path=str(config_path)) from None
    if not solution or not test:
        raise ProblemFileError("names no solution or no test file", path=str(config_path))
    files = _files(folder)
    return Problem(
        task_id=f"{lang}/{folder.name}",
        prompt=_instructions(folder),
        tests=BuildTests(
            language=lang,
            files=tuple(sorted(files.items())),
            solution=tuple(solution),
            test=tuple(test),
            example=tuple(_example(folder, example, solution).items()),
            folder=str(folder),
        ),
        canonical_solution="",
        source="polyglot",
        language=lang,
    )


def _files(folder: Path) -> dict[str, str]:
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel.startswith(_NOT_FILES) or path.name in _NOT_NAMES:
            continue
        try:
            files[rel] = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # a binary (Gradle's wrapper jar): the build never uses it
    return files


def _instructions(folder: Path) -> str:
    docs = folder / ".docs"
    parts = [
        (docs / name).read_text(encoding="utf-8")
        for name in ("introduction.md", "instructions.md", "instructions.append.md")
        if (docs / name).is_file()
    ]
    return "\n\n".join(part.strip() for part in parts) + "\n"


def _example(folder: Path, example: list[str], solution: list[str]) -> dict[str, str]:
    """The reference's files where they go: in place of the solution file of the same name
    or the same kind, or beside the solution files (Java's extra classes)."""
    placed: dict[str, str] = {}
    for path in example:
        source = folder / path
        if not source.is_file():
            continue
        name = source.name
        suffix = source.suffix
        same_name = [s for s in solution if Path(s).name == name]
        same_kind = [s for s in solution if Path(s).suffix == suffix]
        kind_examples = [e for e in example if Path(e).suffix == suffix]
        if same_name:
            target = same_name[0]
        elif len(same_kind) == 1 and len(kind_examples) == 1:
            target = same_kind[0]
        elif same_kind:
            target = str(Path(same_kind[0]).parent / name)
        else:
            target = name
        placed[target] = source.read_text(encoding="utf-8")
    return placed
