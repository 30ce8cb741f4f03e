"""The explore notebook in JupyterLab, in a real browser: the workflow the README suggests.

JupyterLab is started at a project's root, where ``koderz benchmark`` would have written
``data/``; the notebook runs from ``notebooks/`` with no parameter set, so it must find
``../data`` by the data-folder rule. Playwright (the ``playwright`` package from PyPI, with
its own driver) drives Debian's Chromium; no browser is downloaded. The test runs every
cell, picks another problem in the explorer's dropdown and checks that the story changes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from koderz import demo_data
from koderz.models.llamacpp_server import free_port

CHROMIUM = "/usr/bin/chromium"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# Without the background-networking switches Chromium keeps calling home, and this machine's
# closed network refuses it; a fresh profile keeps the developer's own out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KERNEL_READY = """() => {
    const kernel = window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel;
    return kernel?.connectionStatus === "connected" && kernel?.status === "idle";
}"""
WAIT_MS = 180_000  # a busy 2-core machine starts a kernel and imports pandas slowly

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]
playwright = pytest.importorskip("playwright.sync_api", reason="pip install 'koderz[dev]'")
pytest.importorskip("jupyterlab", reason="pip install 'koderz[dev]'")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """JupyterLab serving a project folder (notebooks/explore.ipynb, data/); yields its URL
    and token."""
    root = tmp_path_factory.mktemp("project")
    (root / "notebooks").mkdir()
    shutil.copy(NOTEBOOKS / "explore.ipynb", root / "notebooks")
    demo_data(root / "data", problems=3)
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("jupyter")
    env = {k: v for k, v in os.environ.items() if k != "KODERZ_DATA_DIR"}
    # Jupyter's settings, workspaces and runtime files of its own, not the developer's.
    env |= {
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    log = (home / "lab.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",  # CI runs as root
            "--LabApp.extension_manager=readonly",  # no look-ups on PyPI
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={token}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run its commands
        ],
        stdout=log,
        stderr=log,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(home / 'lab.log').read_text()}")
                time.sleep(0.5)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_explore_runs_and_its_dropdown_changes_the_story(
    lab: tuple[str, str], tmp_path: Path
) -> None:
    url, token = lab
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = browser.new_page()
            page.goto(f"{url}/lab/tree/notebooks/explore.ipynb?token={token}")
            # Cells sent before the kernel's websocket is up are lost: wait for it.
            page.wait_for_function(KERNEL_READY, timeout=WAIT_MS)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            story = page.locator(".widget-html-content h3")
            story.wait_for(timeout=WAIT_MS)
            selects = page.locator(".widget-dropdown select")
            # Run, strategy, problem; then a filter per group of the demo problems
            # (difficulty, platform, month, source, language).
            assert selects.count() == 8
            before = story.inner_text()
            assert "problem 2102D" in before  # demo problem 2, the first id
            selects.nth(2).select_option(label="3400")
            page.wait_for_function(
                "() => document.querySelector('.widget-html-content h3')"
                ".innerText.includes('problem 3400')",
                timeout=WAIT_MS,
            )
            after = story.inner_text()
            assert after != before and "problem 3400" in after
            # The story's code is in a monospace font here too.
            font = page.evaluate(
                "getComputedStyle(document.querySelector('.widget-html-content pre')).fontFamily"
            )
            assert "mono" in font.lower()
            # Every cell ran, none failed: the data was found as ../data from notebooks/.
            page.wait_for_function(
                "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
                "?.getAttribute('data-status') === 'idle'",
                timeout=WAIT_MS,
            )
            errors = page.locator('[data-mime-type="application/vnd.jupyter.error"]')
            assert errors.count() == 0, errors.first.inner_text()
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            assert prompts and all(t.strip() not in ("[ ]:", "[*]:", "") for t in prompts)
        finally:
            browser.close()
