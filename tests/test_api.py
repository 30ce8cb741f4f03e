"""The public API is what docs/api.md promises, and every exported name resolves."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import koderz

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


@pytest.mark.parametrize("name", koderz.__all__)
def test_every_exported_name_resolves(name):
    value = getattr(koderz, name)
    assert value is not None
    if name != "__version__":
        assert getattr(value, "__module__", "koderz").startswith("koderz")


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        koderz.nope  # noqa: B018


def test_the_api_page_documents_exactly_the_exports():
    # The list at the top of the page, before its first example.
    section = API_DOC.read_text().split("```python", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_]+)`", section))
    exported = set(koderz.__all__) - {"__version__"}
    assert exported - documented == set(), "exported but not in docs/api.md"
    assert documented - exported == set(), "in docs/api.md but not exported"


def test_import_is_light():
    # The command line starts fast: importing koderz pulls in neither pandas nor an SDK.
    code = (
        "import sys, koderz\n"
        "print(sorted(m for m in ('pandas', 'openai', 'anthropic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_module_is_named_like_an_exported_name():
    # Importing koderz.X sets the attribute koderz.X to that module, hiding a function X.
    modules = {m.name for m in pkgutil.iter_modules(koderz.__path__)}
    assert modules & set(koderz.__all__) == set()
