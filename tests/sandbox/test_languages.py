"""The language table: every module has the one signature, and its patterns find the
runner's own counts in the output the runner prints."""

from __future__ import annotations

import pytest

from koderz.sandbox.judge.build import _counts
from koderz.sandbox.languages import LANGUAGES, language

OUTPUTS = {
    "python": ("....F.\n1 failed, 5 passed, 1 error in 0.10s\n", (5, 2)),
    "go": (
        "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\n"
        "    --- PASS: TestB/sub (0.00s)\nFAIL\n",
        (2, 1),
    ),
    "rust": (
        "test result: ok. 3 passed; 0 failed; 0 ignored\n"
        "test result: FAILED. 1 passed; 2 failed; 0 ignored\n",
        (4, 2),
    ),
    "javascript": ("Tests:       1 failed, 29 passed, 30 total\n", (29, 1)),
    "java": ("[        17 tests successful      ]\n[         1 tests failed          ]\n", (17, 1)),
    "cpp": (
        "test cases: 17 | 16 passed | 1 failed\nassertions: 17 | 16 passed | 1 failed\n",
        (16, 1),
    ),
}


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_every_language_has_the_one_signature(name: str) -> None:
    module = language(name)
    for attribute in ("NAME", "ALIASES", "TOOLS", "HOW", "COUNTS", "lay", "steps", "script"):
        assert hasattr(module, attribute), f"{name} lacks {attribute}"
    assert hasattr(module, "prepare")
    assert {step.phase for step in module.steps({}, "x")} <= {"build", "test", "check"}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_counts_are_the_runners_own(name: str) -> None:
    output, expected = OUTPUTS[name]
    patterns = [list(p) for p in language(name).COUNTS]
    assert _counts(output, patterns) == expected


def test_multiple_codes_name_the_languages() -> None:
    assert language("js").NAME == "javascript"
    assert language("rs").NAME == "rust"
    assert language("go_test.go").NAME == "go"
    assert language("py").NAME == "python"
