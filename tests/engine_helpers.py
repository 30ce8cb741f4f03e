"""Small problems for the engine's tests. Each has one public test (the one its worker may
see under the default stop rule) among its hidden ones."""

from __future__ import annotations

from koderz.records import Problem

ADD = Problem(
    task_id="Toy/add",
    prompt='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    entry_point="add",
    test="def check(candidate):\n"
    "    assert candidate(1, 2) == 3\n"
    "    assert candidate(-1, 1) == 0\n",
    canonical_solution="    return a + b\n",
    source="toy",
    public_test="def check(candidate):\n    assert candidate(1, 2) == 3\n",
)
REV = Problem(
    task_id="Toy/rev",
    prompt='def rev(s: str) -> str:\n    """Return s reversed."""\n',
    entry_point="rev",
    test="def check(candidate):\n"
    "    assert candidate('ab') == 'ba'\n"
    "    assert candidate('') == ''\n"
    "    assert candidate('x') == 'x'\n",
    canonical_solution="    return s[::-1]\n",
    source="toy",
    public_test="def check(candidate):\n    assert candidate('ab') == 'ba'\n",
)
SQUARE = Problem(
    task_id="Toy/square",
    prompt='def square(x: int) -> int:\n    """Return x squared."""\n',
    entry_point="square",
    test="def check(candidate):\n    assert candidate(3) == 9\n",
    canonical_solution="    return x * x\n",
    source="toy",
    public_test="def check(candidate):\n    assert candidate(3) == 9\n",
)
TOYS = [ADD, REV, SQUARE]
