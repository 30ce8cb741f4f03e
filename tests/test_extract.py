"""Code out of every shape of reply, and programs that keep the prompt's helpers."""

from __future__ import annotations

import pytest

from koderz.extract import build_program, extract_code

FUNC = "def f(x):\n    return x + 1"


@pytest.mark.parametrize(
    "reply",
    [
        f"```python\n{FUNC}\n```",
        f"```py\n{FUNC}\n```",
        f"```\n{FUNC}\n```",
        f"Here is my solution:\n\n```python\n{FUNC}\n```\n\nIt adds one.",
        f"{FUNC}",
        f"Sure. The answer is below.\n{FUNC}\nThis works because it adds one.",
        f"<think>Maybe def f(x): return x? No.</think>\n```python\n{FUNC}\n```",
        f"<thinking>\n```python\ndef f(x):\n    return 0\n```\n</thinking>\n```python\n{FUNC}\n```",
        f"```python\n{FUNC}\n```\nTests:\n```python\nassert f(1) == 2\n```",
        f"```python\nimport math\n```\nand\n```python\n{FUNC}\n```",
    ],
)
def test_finds_the_function(reply):
    assert extract_code(reply, entry_point="f") == FUNC


def test_unterminated_fence():
    assert extract_code(f"```python\n{FUNC}\n", entry_point="f") == FUNC


def test_empty_reply():
    assert extract_code("", entry_point="f") == ""


def test_body_only_completion_is_appended_to_the_prompt():
    prompt = 'def f(x):\n    """Add one."""\n'
    program = build_program(prompt, "    return x + 1", "f")
    assert program == prompt + "    return x + 1\n"
    ns: dict[str, object] = {}
    exec(program, ns)
    assert ns["f"](1) == 2  # type: ignore[operator]


def test_prompt_imports_and_helpers_are_kept():
    prompt = (
        "from typing import List\n\n\ndef is_pal(s: str) -> bool:\n    return s == s[::-1]\n\n\n"
        'def make(xs: List[str]) -> List[bool]:\n    """Doc."""\n'
    )
    code = "def make(xs):\n    return [is_pal(x) for x in xs]"
    program = build_program(prompt, code, "make")
    assert "from typing import List" in program and "def is_pal" in program
    assert program.count("def make") == 1
    ns: dict[str, object] = {}
    exec(program, ns)
    assert ns["make"](["aba", "ab"]) == [True, False]  # type: ignore[operator]


# ----------------------------------------------------------------- Aider's whole-file answers


def test_whole_files_reads_each_path_and_its_fenced_text() -> None:
    from koderz.extract import whole_files

    reply = (
        "I'll change two files.\n\n"
        "src/lib.rs\n```rust\npub fn f() -> i32 {\n    1\n}\n```\n\n"
        '**Cargo.toml**\n```toml\n[package]\nname = "x"\n```\n\n'
        "`src/main.rs`\n```\nfn main() {}\n```\n"
    )
    assert whole_files(reply) == {
        "src/lib.rs": "pub fn f() -> i32 {\n    1\n}\n",
        "Cargo.toml": '[package]\nname = "x"\n',
        "src/main.rs": "fn main() {}\n",
    }


def test_files_of_keeps_what_the_worker_may_write_and_names_the_rest() -> None:
    from koderz.extract import files_of
    from koderz.records import BuildTests, Problem

    tests = BuildTests("go", (), solution=("bowling.go",), test=("bowling_test.go",))
    problem = Problem("go/bowling", "", tests, language="go")
    reply = "bowling.go\n```go\npackage bowling\n```\nbowling_test.go\n```go\npackage x\n```\n"
    assert files_of(problem, reply) == ({"bowling.go": "package bowling\n"}, ["bowling_test.go"])
