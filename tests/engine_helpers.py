"""Small problems for the engine's tests. Each has one public test (the one its worker may
see under the default stop rule) among its hidden ones."""

from __future__ import annotations

from koderz.records import FunctionTests, Problem

ADD = Problem(
    task_id="Toy/add",
    prompt='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    tests=FunctionTests(
        "add",
        "def check(candidate):\n"
        "    assert candidate(1, 2) == 3\n"
        "    assert candidate(-1, 1) == 0\n",
        "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    ),
    canonical_solution="    return a + b\n",
    source="toy",
)
REV = Problem(
    task_id="Toy/rev",
    prompt='def rev(s: str) -> str:\n    """Return s reversed."""\n',
    tests=FunctionTests(
        "rev",
        "def check(candidate):\n"
        "    assert candidate('ab') == 'ba'\n"
        "    assert candidate('') == ''\n"
        "    assert candidate('x') == 'x'\n",
        "def check(candidate):\n    assert candidate('ab') == 'ba'\n",
    ),
    canonical_solution="    return s[::-1]\n",
    source="toy",
)
SQUARE = Problem(
    task_id="Toy/square",
    prompt='def square(x: int) -> int:\n    """Return x squared."""\n',
    tests=FunctionTests(
        "square",
        "def check(candidate):\n    assert candidate(3) == 9\n",
        "def check(candidate):\n    assert candidate(3) == 9\n",
    ),
    canonical_solution="    return x * x\n",
    source="toy",
)
TOYS = [ADD, REV, SQUARE]
