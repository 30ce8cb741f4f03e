"""A realistic LiveCodeBench-shaped set, made here (never LiveCodeBench's data): problems
as ``code_generation_lite`` rows (both test types, private tests JSON or packed) and a
custom output file of programs of every kind a model answers with.

Kinds of program, each a different way of being right or wrong:

* ``right``: correct, written as models write them (``input()``, ``sys.stdin.read``,
  ``sys.stdin.buffer``, ``readline``, a ``main()`` under ``if __name__ == "__main__"``, a
  method returning a tuple for a list).
* ``wrong``: a plausible mistake (off by one, wrong case, a missed edge).
* ``crash``: raises on some tests (an index out of range, a missing key, recursion).
* ``never_ends``: loops or sleeps for ever on one test.
* ``format``: right values, other output layout: extra spaces and blank lines at the ends
  (pass), two spaces between tokens (pass: the tokens are equal as decimals), a list
  printed as ``[1, 2]`` or lines merged (fail), ``exit()`` after printing (pass).
* ``decimal``: a float printed otherwise: trailing zeros, or in exponent notation
  (pass when equal as decimals: ``5.033333333e+01`` for ``50.3333333330``), rounded to
  fewer or more digits (fail: decimals are compared exactly).
* ``quirk``: what LiveCodeBench's grader takes unlike a terminal: ``for line in
  sys.stdin`` (its standard input cannot be iterated), ``open(0)`` (the process's own,
  empty), ``sys.stdout.buffer`` (it captures text only), a ``global`` in a nested function
  (the program runs as a function's body), ``from sys import stdin`` (patched to give
  lines without newlines), ``sys.stdin.buffer.readline`` (always the first line).

Every program and test is the same on every run (seeded).
"""

# The programs are written as models write them, one per line where they fit: not wrapped.
# ruff: noqa: E501

from __future__ import annotations

import base64
import json
import pickle
import random
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

KINDS = ("right", "wrong", "crash", "never_ends", "format", "decimal", "quirk")


def _pack(tests: list[dict[str, str]]) -> str:
    """Packed as LiveCodeBench packs its later problems' private tests."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def _row(
    qid: str,
    title: str,
    platform: str,
    date: str,
    difficulty: str,
    tests: list[tuple[str, str]],
    *,
    func_name: str = "",
    starter: str = "",
    packed: bool = False,
) -> dict[str, Any]:
    kind = "functional" if func_name else "stdin"
    cases = [{"input": i, "output": o, "testtype": kind} for i, o in tests]
    public, private = cases[:2], cases[2:]
    return {
        "question_title": title,
        "question_content": f"{title}: see the tests.",
        "platform": platform,
        "question_id": qid,
        "contest_id": qid.split("_")[0],
        "contest_date": f"{date}T00:00:00",
        "starter_code": starter,
        "difficulty": difficulty,
        "public_test_cases": json.dumps(public),
        "private_test_cases": _pack(private) if packed else json.dumps(private),
        "metadata": json.dumps({"func_name": func_name} if func_name else {}),
    }


# --------------------------------------------------------------------------- the problems


def _sum_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for n in [1, 2, 3, 5, 10, 100, 1000, 50_000, 200_000, 7, 0, 4]:
        xs = [rng.randint(-(10**9), 10**9) for _ in range(n)]
        tests.append((f"{n}\n{' '.join(map(str, xs))}\n", f"{sum(xs)}\n"))
    return tests


def _mean_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for n in [2, 4, 3, 8, 10, 1, 6, 1000, 5, 9]:
        xs = [rng.randint(0, 100) for _ in range(n)]
        mean = sum(xs) / n
        tests.append((f"{n}\n{' '.join(map(str, xs))}\n", f"{mean:.10f}\n"))
    tests[0] = ("2\n2 3\n", "2.5\n")  # a short expected value, as some problems give
    return tests


def _grid_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for h, w in [(2, 3), (1, 1), (3, 3), (4, 2), (10, 10), (50, 40), (1, 30), (30, 1)]:
        grid = ["".join(rng.choice("#.") for _ in range(w)) for _ in range(h)]
        flipped = ["".join(row[c] for row in grid) for c in range(w)]
        tests.append((f"{h} {w}\n" + "\n".join(grid) + "\n", "\n".join(flipped) + "\n"))
    return tests


def _yes_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for word in ["level", "abc", "a", "abba", "xy", "racecar", "ab" * 500, "z" * 999]:
        tests.append((word + "\n", "Yes\n" if word == word[::-1] else "No\n"))
    return tests


def _sort_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for n in [3, 1, 5, 10, 100, 10_000, 2, 6]:
        xs = [rng.randint(1, 10**6) for _ in range(n)]
        tests.append((f"{n}\n{' '.join(map(str, xs))}\n", " ".join(map(str, sorted(xs))) + "\n"))
    return tests


def _fib_tests(rng: random.Random) -> list[tuple[str, str]]:
    # Numbers of up to 8,400 digits: printing them needs the 50,000 digits LiveCodeBench's
    # grader allows (Python's default is 4,300).
    tests = []
    for n in [1, 2, 10, 90, 1000, 25_000, 40_000, 5]:
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        tests.append((f"{n}\n", _digits(a) + "\n"))
    return tests


def _digits(n: int) -> str:
    import sys

    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(n)
    finally:
        sys.set_int_max_str_digits(old)


def _two_sum_tests(rng: random.Random) -> list[tuple[str, str]]:
    # As LeetCode promises, exactly one pair makes the target (else a right answer could
    # name another pair than the expected one): every number a multiple of 4 but the pair's,
    # 1 and 2 modulo 4, so only they add up to 3 modulo 4. The quadratic answer never ends
    # on 100,000 numbers.
    tests = [("[2, 7, 11, 15]\n9", "[0, 1]"), ("[3, 3]\n6", "[0, 1]")]
    for n in [3, 10, 100, 1000, 100_000, 5]:
        xs = [4 * x for x in rng.sample(range(-(10**6), 10**6), n)]
        i, j = sorted(rng.sample(range(n), 2))
        xs[i] += 1
        xs[j] += 2
        tests.append((f"{json.dumps(xs)}\n{xs[i] + xs[j]}", json.dumps([i, j])))
    return tests


def _max_sub_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for n in [9, 1, 5, 50, 1000, 100_000, 3, 2]:
        xs = [rng.randint(-100, 100) for _ in range(n)]
        best = cur = xs[0]
        for x in xs[1:]:
            cur = max(x, cur + x)
            best = max(best, cur)
        tests.append((json.dumps(xs), json.dumps(best)))
    return tests


def _palindrome_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for x in [121, -121, 10, 0, 12321, 123, 1_000_000_001, 7]:
        tests.append((json.dumps(x), json.dumps(str(x) == str(x)[::-1])))
    return tests


def _anagram_tests(rng: random.Random) -> list[tuple[str, str]]:
    tests = []
    for words in [["eat", "tea", "tan", "ate", "nat", "bat"], [""], ["a"], ["ab", "ba", "c"]]:
        groups: dict[str, list[str]] = {}
        for w in words:
            groups.setdefault("".join(sorted(w)), []).append(w)
        tests.append((json.dumps(words), json.dumps(list(groups.values()))))
    return tests


SUM_RIGHT = "n = int(input())\nxs = list(map(int, input().split())) if n else []\nprint(sum(xs))\n"
SUM_READ = "import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data[1:])))\n"
SUM_BUFFER = "import sys\ndata = sys.stdin.buffer.read().split()\nprint(sum(map(int, data[1:])))\n"
MEAN = "n = int(input())\nxs = list(map(int, input().split()))\n"
GRID = "h, w = map(int, input().split())\ng = [input() for _ in range(h)]\n"
SOLUTION = "class Solution:\n"


def _programs() -> dict[str, list[tuple[str, str]]]:
    """Per question id, (kind, program) in the order of its ``code_list``."""
    return {
        "bench_sum": [
            ("right", SUM_RIGHT),
            ("right", SUM_READ),
            ("right", SUM_BUFFER),
            (
                "right",
                "def main():\n    input()\n    print(sum(map(int, input().split())))\n\n"
                "if __name__ == '__main__':\n    main()\n",
            ),
            (
                "wrong",
                "n = int(input())\nxs = list(map(int, input().split()))\nprint(sum(xs[:-1]))\n",
            ),
            (
                "crash",
                "n = int(input())\nxs = input().split()\nprint(sum(int(xs[i]) for i in range(n)))\n",
            ),
            (
                "never_ends",
                "n = int(input())\nwhile n == 100:\n    pass\nprint(sum(map(int, input().split())))\n",
            ),
            ("format", SUM_RIGHT.replace("print(sum(xs))", "print('  ', sum(xs), '\\n\\n')")),
            ("format", SUM_RIGHT + "exit()\nprint('more')\n"),
            (
                "quirk",
                "import sys\nlines = [l for l in sys.stdin]\nprint(sum(map(int, lines[1].split())))\n",
            ),
            ("quirk", "data = open(0).read().split()\nprint(sum(map(int, data[1:])))\n"),
            ("right", "import sys\ninput = sys.stdin.readline\n" + SUM_RIGHT),
            ("quirk", "from sys import stdin\ninput = stdin.readline\n" + SUM_RIGHT),
            ("quirk", "import sys\ninput = sys.stdin.buffer.readline\n" + SUM_RIGHT),
        ],
        "bench_mean": [
            ("right", MEAN + "print(sum(xs) / n)\n"),
            ("right", MEAN + "print(f'{sum(xs) / n:.10f}')\n"),
            ("decimal", MEAN + "print(f'{sum(xs) / n:.12f}')\n"),
            ("decimal", MEAN + "print(f'{sum(xs) / n:.2f}')\n"),
            ("decimal", MEAN + "print(round(sum(xs) / n, 3))\n"),
            ("decimal", MEAN + "print(f'{sum(xs) / n:.10f}000')\n"),
            ("decimal", MEAN + "print(f'{sum(xs) / n:.9e}')\n"),
            ("wrong", MEAN + "print(sum(xs) // n)\n"),
            ("crash", MEAN + "print(sum(xs) / (n - 1))\n"),
        ],
        "bench_grid": [
            ("right", GRID + "for c in range(w):\n    print(''.join(r[c] for r in g))\n"),
            ("right", GRID + "print('\\n'.join(map(''.join, zip(*g))))\n"),
            ("format", GRID + "for c in range(w):\n    print(''.join(r[c] for r in g) + '   ')\n"),
            (
                "format",
                GRID + "for c in range(w):\n    print(''.join(r[c] for r in g))\n    print()\n",
            ),
            ("format", GRID + "print(' '.join(map(''.join, zip(*g))))\n"),
            ("wrong", GRID + "for r in g:\n    print(r)\n"),
            (
                "never_ends",
                GRID + "import time\nif h == 4:\n    time.sleep(100)\n"
                "print('\\n'.join(map(''.join, zip(*g))))\n",
            ),
        ],
        "bench_yes": [
            ("right", "s = input()\nprint('Yes' if s == s[::-1] else 'No')\n"),
            (
                "right",
                "import sys\ns = sys.stdin.readline().strip()\nprint('Yes' if s == s[::-1] else 'No')\n",
            ),
            ("wrong", "s = input()\nprint('YES' if s == s[::-1] else 'NO')\n"),
            ("wrong", "s = input()\nprint('Yes' if s[0] == s[-1] else 'No')\n"),
            ("crash", "s = input()\nprint('Yes' if s[1] == s[-2] and s == s[::-1] else 'No')\n"),
            (
                "format",
                "s = input()\nif s == s[::-1]:\n    print('Yes')\n    exit()\nprint('No')\n",
            ),
            (
                "quirk",
                "import sys\nsys.stdout.buffer.write(b'Yes\\n' if (s := input()) == s[::-1] else b'No\\n')\n",
            ),
            (
                "crash",
                "def check(i, j):\n    return i >= j or (s[i] == s[j] and check(i + 1, j - 1))\n"
                "s = input()\nprint('Yes' if check(0, len(s) - 1) else 'No')\n",
            ),
        ],
        "bench_sort": [
            ("right", "input()\nprint(*sorted(map(int, input().split())))\n"),
            ("format", "input()\nprint('  '.join(map(str, sorted(map(int, input().split())))))\n"),
            ("format", "input()\nprint(sorted(map(int, input().split())))\n"),
            ("format", "input()\nfor x in sorted(map(int, input().split())):\n    print(x)\n"),
            ("wrong", "input()\nprint(*sorted(input().split()))\n"),
            (
                "quirk",
                "count = 0\ndef bump():\n    global count\n    count += 1\ninput()\nbump()\n"
                "print(*sorted(map(int, input().split())))\n",
            ),
            (
                "never_ends",
                "n = int(input())\nxs = list(map(int, input().split()))\n"
                "while not all(a <= b for a, b in zip(xs, xs[1:])):\n"
                "    import random\n    random.shuffle(xs)\nprint(*xs)\n",
            ),
        ],
        "bench_fib": [
            (
                "right",
                "n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)\n",
            ),
            (
                "right",
                "from functools import lru_cache\nimport sys\nsys.setrecursionlimit(100000)\n"
                "n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nsys.stdout.write(str(a) + '\\n')\n",
            ),
            (
                "wrong",
                "n = int(input())\na, b = 1, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)\n",
            ),
            (
                "decimal",
                "n = int(input())\nphi = (1 + 5 ** 0.5) / 2\nprint(round(phi ** n / 5 ** 0.5))\n",
            ),
        ],
        "bench_two_sum": [
            (
                "right",
                SOLUTION + "    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
                "        seen = {}\n        for i, x in enumerate(nums):\n"
                "            if target - x in seen:\n                return [seen[target - x], i]\n"
                "            seen[x] = i\n",
            ),
            (
                "right",
                SOLUTION + "    def twoSum(self, nums, target):\n        seen = {}\n"
                "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
                "                return seen[target - x], i\n            seen[x] = i\n",
            ),
            (
                "wrong",
                SOLUTION + "    def twoSum(self, nums, target):\n"
                "        for i in range(len(nums)):\n            for j in range(len(nums)):\n"
                "                if nums[i] + nums[j] == target:\n                    return [i, j]\n",
            ),
            (
                "never_ends",
                SOLUTION + "    def twoSum(self, nums, target):\n"
                "        for i in range(len(nums)):\n            for j in range(i + 1, len(nums)):\n"
                "                if nums[i] + nums[j] == target:\n                    return [i, j]\n",
            ),
            (
                "crash",
                SOLUTION + "    def twoSum(self, nums, target):\n"
                "        return [nums.index(target - nums[0]), nums.index(nums[1])]\n",
            ),
        ],
        "bench_max_sub": [
            (
                "right",
                SOLUTION + "    def maxSubArray(self, nums: List[int]) -> int:\n"
                "        best = cur = nums[0]\n        for x in nums[1:]:\n"
                "            cur = max(x, cur + x)\n            best = max(best, cur)\n        return best\n",
            ),
            (
                "wrong",
                SOLUTION + "    def maxSubArray(self, nums):\n        best = cur = 0\n"
                "        for x in nums:\n            cur = max(0, cur + x)\n            best = max(best, cur)\n"
                "        return best\n",
            ),
            (
                "crash",
                SOLUTION + "    def maxSubArray(self, nums):\n"
                "        return max(nums[i] + nums[i + 1] for i in range(len(nums)))\n",
            ),
            (
                "right",
                "from typing import List\n\n"
                + SOLUTION
                + "    def maxSubArray(self, nums: List[int]) -> int:\n"
                "        import itertools\n        best, low = nums[0], 0\n"
                "        for p in itertools.accumulate(nums):\n            best = max(best, p - low)\n"
                "            low = min(low, p)\n        return best\n",
            ),
        ],
        "bench_palindrome": [
            (
                "right",
                SOLUTION + "    def isPalindrome(self, x: int) -> bool:\n"
                "        return str(x) == str(x)[::-1]\n",
            ),
            (
                "right",
                SOLUTION
                + "    def isPalindrome(self, x):\n        return 1 if str(x) == str(x)[::-1] else 0\n",
            ),
            (
                "wrong",
                SOLUTION
                + "    def isPalindrome(self, x):\n        return str(abs(x)) == str(abs(x))[::-1]\n",
            ),
            (
                "wrong",
                SOLUTION
                + "    def isPalindrome(self, x):\n        return 'true' if str(x) == str(x)[::-1] else 'false'\n",
            ),
        ],
        "bench_anagrams": [
            (
                "right",
                SOLUTION
                + "    def groupAnagrams(self, strs):\n        groups = defaultdict(list)\n"
                "        for w in strs:\n            groups[''.join(sorted(w))].append(w)\n"
                "        return list(groups.values())\n",
            ),
            (
                "wrong",
                SOLUTION
                + "    def groupAnagrams(self, strs):\n        groups = defaultdict(list)\n"
                "        for w in strs:\n            groups[''.join(sorted(w))].append(w)\n"
                "        return sorted(groups.values())\n",
            ),
            (
                "right",
                SOLUTION + "    def groupAnagrams(self, strs):\n        groups = {}\n"
                "        for w in strs:\n            groups.setdefault(tuple(sorted(w)), []).append(w)\n"
                "        return [tuple(g) for g in groups.values()] and list(map(list, groups.values()))\n",
            ),
        ],
    }


_PROBLEMS: list[tuple[str, str, str, str, str, Callable[[random.Random], list[Any]], str, bool]] = [
    ("bench_sum", "Sum", "atcoder", "2024-08-03", "easy", _sum_tests, "", False),
    ("bench_mean", "Mean", "codeforces", "2024-09-14", "medium", _mean_tests, "", True),
    ("bench_grid", "Transpose", "atcoder", "2024-10-05", "medium", _grid_tests, "", False),
    ("bench_yes", "Palindrome", "atcoder", "2024-11-09", "easy", _yes_tests, "", True),
    ("bench_sort", "Sort", "codeforces", "2025-01-11", "easy", _sort_tests, "", False),
    ("bench_fib", "Fibonacci", "atcoder", "2025-02-08", "hard", _fib_tests, "", True),
    ("bench_two_sum", "two-sum", "leetcode", "2024-08-10", "easy", _two_sum_tests, "twoSum", True),
    (
        "bench_max_sub",
        "max-subarray",
        "leetcode",
        "2024-12-07",
        "medium",
        _max_sub_tests,
        "maxSubArray",
        False,
    ),
    (
        "bench_palindrome",
        "palindrome-number",
        "leetcode",
        "2025-01-04",
        "easy",
        _palindrome_tests,
        "isPalindrome",
        True,
    ),
    (
        "bench_anagrams",
        "group-anagrams",
        "leetcode",
        "2025-03-01",
        "hard",
        _anagram_tests,
        "groupAnagrams",
        False,
    ),
]


def write(
    folder: Path, copies: int = 1, kinds_wanted: tuple[str, ...] = KINDS
) -> tuple[Path, Path, list[str]]:
    """Write ``test.jsonl`` (the problems) and ``custom.json`` (each question's programs of
    the kinds wanted, ``copies`` times over) into ``folder``; the kind of every program, in
    order."""
    rng = random.Random(27)
    problems = folder / "test.jsonl"
    with problems.open("w") as out:
        for qid, title, platform, date, difficulty, make, func, packed in _PROBLEMS:
            starter = f"class Solution:\n    def {func}(self, *args):\n        " if func else ""
            row = _row(
                qid,
                title,
                platform,
                date,
                difficulty,
                make(rng),
                func_name=func,
                starter=starter,
                packed=packed,
            )
            out.write(json.dumps(row) + "\n")
    kinds: list[str] = []
    custom = []
    for qid, every in _programs().items():
        programs = [(kind, code) for kind, code in every if kind in kinds_wanted]
        codes = [code for _, code in programs] * copies
        kinds += [kind for kind, _ in programs] * copies
        custom.append({"question_id": qid, "code_list": codes})
    samples = folder / "custom.json"
    samples.write_text(json.dumps(custom))
    return problems, samples, kinds
