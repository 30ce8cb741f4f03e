"""The fixtures of the worked example (:mod:`tests.analysis.worked`), for every layer's tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.analysis.worked import register_estimate_model, write


@pytest.fixture
def steps(tmp_path: Path) -> pd.DataFrame:
    """The worked example's rows, written with the real StepWriter and read back."""
    return write(tmp_path)


@pytest.fixture
def estimate_model() -> str:
    """The worked example's estimate model (each call re-prices at $0.10)."""
    return register_estimate_model()
