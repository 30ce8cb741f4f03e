"""For ``pytest --nbval-lax``: the notebooks run on a data folder made by a real engine run.

The notebooks find their data by the rule every Koderz command follows
(:func:`koderz.store.data_folder`), so before they run this writes a data folder with the
engine against local protocol servers (tests/report_data.py) into a temporary folder, and
names it in ``$KODERZ_DATA_DIR``, which the kernels nbval starts inherit. A folder of the
developer's own (``data/``, or their own ``$KODERZ_DATA_DIR``) is never read or touched.

It sits at the top of the checkout, not in ``notebooks/``: that folder is mapped into the
wheel as ``koderz.notebooks`` and holds only the notebooks.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DATA_DIR_ENV = "KODERZ_DATA_DIR"  # koderz.store.DATA_DIR_ENV; not imported before sys.path is set


def pytest_collection_finish(session: pytest.Session) -> None:
    if not any(item.path.suffix == ".ipynb" for item in session.items):
        return
    sys.path.insert(0, str(HERE))
    from tests.report_data import engine_data

    folder = Path(tempfile.mkdtemp(prefix="koderz-nbval-"))
    session.config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    engine_data(folder / "data")
    os.environ[DATA_DIR_ENV] = str(folder / "data")
