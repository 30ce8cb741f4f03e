"""For ``pytest --nbval-lax``: the notebooks run on a data folder made by a real engine run.

A notebook's parameters cell holds literals only (``data_dir = "data"``, relative to the
notebook, as nbval runs each kernel in the notebook's folder), so before the notebooks run
this writes ``notebooks/data/`` with the engine against local protocol servers
(tests/report_data.py) and marks it as a fixture. A ``notebooks/data/`` without the mark is
someone's own data: it is left alone and the notebooks run on it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MARK = DATA / ".koderz-fixture"


def pytest_collection_finish(session: pytest.Session) -> None:
    if not any(str(item.path).endswith(".ipynb") for item in session.items):
        return
    if DATA.exists() and not MARK.exists():
        return
    sys.path.insert(0, str(HERE.parent))
    from tests.report_data import engine_data

    shutil.rmtree(DATA, ignore_errors=True)
    engine_data(DATA)
    MARK.write_text("Written by notebooks/conftest.py for the nbval run; safe to delete.\n")
