"""MultiPL-E's rows, from the small rows of Koderz's own in tests/data/multiple."""

from __future__ import annotations

from pathlib import Path

import pytest

from koderz.errors import ProblemFileError
from koderz.problems import load_problems
from koderz.problems.multiple import program
from koderz.records import ScriptTests

DATA = Path(__file__).parent.parent / "data" / "multiple"


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("cpp", "cpp"),
        ("go", "go"),
        ("java", "java"),
        ("js", "javascript"),
        ("rs", "rust"),
        ("py", "python"),
    ],
)
def test_rows_are_script_problems_in_their_language(code: str, language: str) -> None:
    problems = load_problems(DATA / f"humaneval-{code}.jsonl")
    problem = problems["Koderz_0_add_two"]
    assert problem.shape == "script"
    assert problem.language == language
    assert isinstance(problem.tests, ScriptTests) and problem.tests.stop_tokens


def test_the_program_is_prompt_completion_and_tests_cut_at_a_stop_token() -> None:
    problem = load_problems(DATA / "humaneval-rs.jsonl")["Koderz_0_add_two"]
    text = program(problem, "    n + 2\n}\n\nfn unrelated() {}\n")
    assert text.startswith(problem.prompt + "    n + 2")
    assert "unrelated" not in text
    assert text.endswith("assert_eq!(candidate(-5), -3);\n}\n")


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"name": "x", "language": "cobol", "prompt": "", "tests": "", "stop_tokens": []}\n'
    )
    with pytest.raises(ProblemFileError, match="cobol"):
        load_problems(path)
