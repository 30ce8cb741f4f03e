"""The judge: the trusted test runner that Koderz starts *inside* the sandbox (see
``koderz/sandbox/__init__.py``).

It is started as ``python -I -S -c "...from judge import main; main(sys.argv)"`` (see
``start_command`` in ``koderz/sandbox/proc.py``: imported, its modules load from their cached
byte code rather than being compiled at every start) and must import nothing from Koderz and
nothing slow: its start-up time is paid once per sandbox, or per candidate without one.

Two processes, so that the candidate never shares memory with the code that judges it:

* the **judge** (trusted) reads the problem's tests, runs each test case and reports every
  outcome over a private pipe that only it holds, tagged with a nonce the host chose;
* the **candidate** process runs the generated program and serves the judge over a pair of
  pipes, as its test shape says (``function.py``: it answers calls ``name(*args)``). It is
  forked from memory that never held a test: under a zygote, from the zygote's
  (``zygote.py``), which forks it again after a timeout or crash; alone, from the judge's
  *before* the judge reads the tests, and re-started by ``exec``.

Whatever the candidate does - ``exit(0)``, ``os._exit(0)``, ``SystemExit``, exit or
exception hooks, patching ``builtins``/``AssertionError``/``isinstance``, printing
"passed", killing the judge - it cannot produce a pass record: it has no handle on the
result pipe, the judge is not dumpable (no ptrace, no ``/proc/PID/mem`` or ``fd``), and a
pass needs every test's record *and* the final ``done`` record with the right nonce.

The modules: ``core.py`` (the candidate's process, the deadline, the records: no test shape),
one module per test shape (``function.py`` ...: how a candidate serves and how a case runs),
``zygote.py`` (a sandbox serving many candidates), ``processes.py`` (limits, privileges,
priority, killing) and ``wire.py`` (frames and failure texts).

Protocol: frames are a 4-byte big-endian length and a ``marshal`` payload. Alone, the judge
reads two frames on stdin: the set-up (the program, limits) and, once the candidate process
has been forked, the tests (nonce, deadline, shape, and what the shape runs: for functions,
the prelude and items as code objects the host compiled once per problem). A zygote reads a
start frame and then one frame per candidate (its limits and folder) on stdin; its judge
reads each candidate's tests and program on its own pipe and hands the program to the
candidate. Records are JSON arrays to the host, one a line (nothing executable on the host's
side).
"""


def main(argv: list[str]) -> None:
    """``--zygote``: serve candidates for as long as the host writes; ``--child REQ RESP``: a
    candidate re-started by exec; nothing: judge one candidate alone."""
    if len(argv) > 1 and argv[1] == "--child":
        from .core import child_main

        child_main(argv)
    elif len(argv) > 1 and argv[1] == "--zygote":
        from .zygote import zygote_main

        zygote_main()
    else:
        from .core import judge_main

        judge_main()
