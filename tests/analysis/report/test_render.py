"""Reports: Papermill + nbconvert on a data folder written by a real engine run, an offline HTML
page checked in headless Chromium, no secrets, and notebooks fit for git."""

from __future__ import annotations

import ast
import datetime as dt
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from koderz import DataError, KoderzError, demo_data
from koderz.analysis.report.render import (
    Report,
    external_references,
    notebook_path,
    render_report,
)
from koderz.cli import main
from koderz.store import StepWriter
from tests.analysis.worked import write_free_baseline
from tests.report_data import (
    RUN_ID,
    better_than_baseline_data,
    engine_data,
    nothing_solved_data,
)

# Papermill runs the notebooks, and Chromium opens the pages.
pytestmark = pytest.mark.slow

DAY = dt.date(2026, 1, 5)
NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return engine_data(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def rendered(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    reports = render_report(
        data,
        run_ids=[RUN_ID],
        out_dir=tmp_path_factory.mktemp("reports"),
        baseline="frontier_only",
        estimate_model="claude-opus-4-5",
        notebooks=["tier_comparison", "explore"],
        date=DAY,
    )
    return {r.notebook.name.split("_" + RUN_ID)[0]: r for r in reports}


# --------------------------------------------------------------------------- the notebooks


@pytest.mark.parametrize("name", ["tier_comparison", "explore"])
def test_notebooks_in_git_are_clean(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit no outputs"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for node in ast.parse(params[0].source).body:  # literals only
        assert isinstance(node, ast.Assign)
        ast.literal_eval(node.value)
    for cell in code:  # only from koderz: the API, never a module inside it
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                assert [a.name for a in node.names] == ["koderz"], ast.unparse(node)
            elif isinstance(node, ast.ImportFrom):
                assert node.module == "koderz" and not node.level, ast.unparse(node)
    assert not {"key", "api_key", "token"} & set(params[0].source.lower().split())


def test_unknown_notebook_lists_the_known_ones() -> None:
    with pytest.raises(KoderzError, match="explore, tier_comparison"):
        notebook_path("nope")


def test_the_notebooks_are_found_inside_the_package_first(tmp_path: Path) -> None:
    from koderz.analysis.report.render import notebook_folders

    package, checkout = notebook_folders()
    assert package.parent.name == "koderz" and package.name == "notebooks"  # a wheel's
    assert checkout == NOTEBOOKS  # a checkout's (this one)
    assert notebook_path("explore") == NOTEBOOKS / "explore.ipynb"


# --------------------------------------------------------------------------- rendering


def test_report_files_are_named_by_run_and_date(rendered: dict[str, Report]) -> None:
    report = rendered["tier_comparison"]
    assert report.notebook.name == f"tier_comparison_{RUN_ID}_2026-01-05.ipynb"
    assert report.html.name == f"tier_comparison_{RUN_ID}_2026-01-05.html"
    executed = nbformat.read(report.notebook, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "frontier_only" in injected[0].source
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []


def test_html_is_self_contained_with_code_hidden(rendered: dict[str, Report]) -> None:
    page = rendered["tier_comparison"].html.read_text()
    assert external_references(page) == []
    assert "<script" not in page.lower()
    images = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]{0,40})", page)
    assert len(images) == 8 and all(s.startswith("data:image/png;base64,") for s in images)
    assert page.count("<table") >= 2
    assert "cheap_advised is " in page and "times cheaper than frontier_only" in page
    assert "load_steps(" not in page and "import" not in page.split("<body")[1][:20000]


def test_explore_page_keeps_a_static_story(rendered: dict[str, Report]) -> None:
    page = rendered["explore"].html.read_text()
    assert external_references(page) == []
    assert "Attempt 1 — failed" in page and "Spec — claude-opus-4-6" in page


def chromium_check(page_path: Path, tmp_path: Path) -> dict[str, Any]:
    """Load a copy of the page in headless Chromium, the network unreachable (every host
    resolves to nothing); a probe script records, once the page has loaded, how many images
    decoded, the tables, and the page's visible text."""
    probe = (
        "<script>window.addEventListener('load', () => {"
        "const imgs = [...document.images];"
        "document.body.setAttribute('data-check', JSON.stringify({images: imgs.length,"
        " decoded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,"
        " tables: document.querySelectorAll('table').length,"
        # How far each table sticks out of its output area (a notebook pane 900 px wide).
        " overflow: [...document.querySelectorAll('table')].map(t => Math.round("
        "t.getBoundingClientRect().width - (t.closest('.jp-OutputArea-output')"
        " || document.body).getBoundingClientRect().width)),"
        " text: document.body.innerText}));});</script>"
    )
    page = page_path.read_text().replace("</body>", probe + "</body>")
    copy = tmp_path / "page.html"
    copy.write_text(page)
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=10000",
            "--window-size=900,800",
            "--dump-dom",
            copy.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'data-check="([^"]*)"', dom)
    assert found, "the page did not finish loading"
    check: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return check


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_html_renders_offline_in_headless_chromium(
    rendered: dict[str, Report], tmp_path: Path
) -> None:
    check = chromium_check(rendered["tier_comparison"].html, tmp_path)
    assert check["images"] == 8
    assert check["decoded"] == check["images"]
    assert check["tables"] >= 2
    assert max(check["overflow"]) <= 0, "a table is wider than the notebook pane"


# --------------------------------------------------------------------------- the scenarios


def _three_strategies(data: Path) -> Path:
    return demo_data(data, problems=8)


def _epochs(data: Path) -> Path:  # every strategy run 3 times on each problem: pass@k
    return demo_data(data, problems=5, runs=3)


SCENARIOS = {
    "nothing solved": nothing_solved_data,  # the offline main job: one local strategy
    "three strategies": _three_strategies,  # a frontier-only baseline, chosen by itself
    "better than its baseline": better_than_baseline_data,
    "several runs": _epochs,
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Report]:
    name = request.param
    data = SCENARIOS[name](tmp_path_factory.mktemp("data"))
    (report,) = render_report(
        data, out_dir=tmp_path_factory.mktemp("out"), estimate_model="claude-sonnet-4-5", date=DAY
    )
    return name, data, report


def _analyze_text(data: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["analyze", "--data-dir", str(data), "--estimate-model", "claude-sonnet-4-5"]) == 0
    return capsys.readouterr().out


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_each_scenario_renders_a_clean_page(
    scenario: tuple[str, Path, Report], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, data, report = scenario
    check = chromium_check(report.html, tmp_path)
    assert check["images"] >= 3 and check["decoded"] == check["images"], name
    assert max(check["overflow"]) <= 0, f"{name}: a table is wider than the notebook pane"
    text = check["text"]
    for word in ("Warning", "Traceback", "/root", sys.prefix, str(Path.home())):
        assert word not in text, f"{name}: {word!r} on the page"
    # The answer on the page is the one `koderz analyze` prints, sentence for sentence.
    headlines = _analyze_text(data, capsys).split("\n\n")[0].splitlines()
    assert headlines and all(line in text for line in headlines), name
    assert text.index("The answer") < text.index("Cost against pass rate") < text.index("Pass rate")


def test_each_scenario_says_only_what_the_data_supports(
    scenario: tuple[str, Path, Report],
) -> None:
    name, _, report = scenario
    page = html.unescape(re.sub(r"<[^>]+>", " ", report.html.read_text()))
    if name == "nothing solved":
        assert "local-only solved none of its 4 problems, so it has no savings" in page
        assert "none solved" in page and "100.0%" not in page
        assert "No measured baseline: no strategy made only frontier-tier calls" in page
        assert "no cost per solved problem" in page.replace("\n", " ")
    elif name == "three strategies":
        assert "frontier-only is the measured baseline: every one of its model calls" in page
        assert "local+frontier is " in page and "McNemar p" in page
    elif name == "better than its baseline":
        assert (
            "frontier_only solved fewer of these problems than cheap_advised (2 against 4" in page
        )
    else:
        assert "of 15 experiments on 5 problems" in page  # 3 runs of each


def test_cli_report(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", "--data-dir", str(data), "--run-id", RUN_ID, "--out", str(tmp_path)]
    assert main(argv) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 2 and all(Path(p).is_file() for p in printed)
    assert printed[1].endswith(".html") and f"_{RUN_ID}_" in printed[1]
    # Without --notebook: render_report's default, the tier comparison alone.
    assert [Path(p).name.split("_")[:2] for p in printed] == [["tier", "comparison"]] * 2


def test_a_report_split_by_group_with_cutoffs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Demo problems are dated and labelled as LiveCodeBench's; the local worker's cutoff is
    # given, so every demo strategy has one (the latest of its models': claude-opus-4-8's).
    data = demo_data(tmp_path / "data", problems=10)
    argv = ["report", "--data-dir", str(data), "--out", str(tmp_path / "out"), "--by"]
    assert main([*argv, "difficulty", "--cutoff", "qwen2.5-coder:7b=2025-12-31"]) == 0
    page = html.unescape(
        re.sub(r"<[^>]+>", " ", Path(capsys.readouterr().out.split()[1]).read_text())
    )
    page = re.sub(r"\s+", " ", page)
    for difficulty in ("easy", "medium", "hard"):
        assert f" {difficulty} frontier-only " in page  # a row per group and strategy
    assert "pass rate after the cutoff" in page and "Not split by group" not in page
    assert "Before a cutoff: The window starts 2025-06-01, before the cutoff of" in page
    assert "qwen2.5-coder:7b 2025-12-31" in page  # the methods section names it
    assert " local+frontier 2026-01-31 claude-opus-4-8 " in page  # the cutoff table
    assert "Window: the problems were released 2025-06-01 to 2026-04-23" in page


def test_a_split_by_an_unknown_key_fails_before_a_kernel_starts(tmp_path: Path) -> None:
    with pytest.raises(KoderzError, match="Cannot group by 'colour'; use one of difficulty"):
        render_report(demo_data(tmp_path, problems=1), out_dir=tmp_path, split_by="colour")


def test_a_failing_cell_is_reported_with_its_error(data: Path, tmp_path: Path) -> None:
    with pytest.raises(KoderzError, match=r"tier_comparison.ipynb failed in cell .*'nope'"):
        render_report(data, out_dir=tmp_path, baseline="nope")


def test_missing_data_folder(tmp_path: Path) -> None:
    with pytest.raises(KoderzError, match="No data folder"):
        render_report(tmp_path / "none", out_dir=tmp_path)


@pytest.mark.parametrize("case", ["interrupted", "unknown run"])
def test_no_finished_experiments_is_an_error(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = tmp_path / "data", tmp_path / "reports"
    if case == "interrupted":  # stopped in flight: the engine writes an "interrupted" end
        row = {"experiment_id": "e", "strategy": "s", "problem_id": "P", "role": "attempt"}
        writer = StepWriter(data, "r1")
        writer.write(row)
        writer.write(row | {"role": "end", "status": "interrupted"})
        runs: list[str] = []
    else:  # finished experiments, but not in the run asked for
        demo_data(data, problems=1)
        runs = ["nope"]
    with pytest.raises(DataError, match=r"No finished experiments.*koderz benchmark"):
        render_report(data, run_ids=runs, out_dir=out)
    assert not out.exists()
    argv = ["report", "--data-dir", str(data), "--out", str(out)]
    assert main(argv + [a for r in runs for a in ("--run-id", r)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No finished experiments" in err
    assert "check --data-dir and --run-id" in err


def test_a_free_baseline_in_the_notebook(tmp_path: Path) -> None:
    write_free_baseline(tmp_path / "data")
    (report,) = render_report(
        tmp_path / "data", out_dir=tmp_path / "out", baseline="local_only", date=DAY
    )
    page = html.unescape(report.html.read_text())
    assert (
        "cheap is compared with local_only, which costs nothing (times cheaper: undefined)" in page
    )


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    ("secret", "env", "message"),
    [
        # The writer redacts key shapes and the secrets of its own environment; these got
        # past it: a file it never wrote, and a variable set after the run.
        ("hf_" + "Q" * 34, None, "a string shaped like an API key"),
        ("correct-horse-battery-staple", "SERVICE_TOKEN", "the value of $SERVICE_TOKEN"),
    ],
)
def test_a_secret_in_the_outputs_stops_the_report(
    secret: str, env: str | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from koderz.store import StepWriter, to_table

    data = demo_data(tmp_path / "data", problems=1)
    row = {
        "experiment_id": "!leak",
        "strategy": "x",
        "problem_id": "P",
        "role": "attempt",
        "iteration": 1,
        "code": f"KEY = {secret!r}\n",
        # first in time, so the notebook's static story shows it
        "started_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    }
    if env:  # set after the run: the writer could not know it
        StepWriter(data, "demo-1").write_many([row])
        monkeypatch.setenv(env, secret)
    else:  # a file the writer never saw (an older version's, or edited by hand)
        table = to_table([{"step_id": "leak", "run_id": "demo-1", **row}])
        pq.write_table(table, data / "steps" / "run=demo-1" / "part-leak.parquet")
    out = tmp_path / "reports"
    with pytest.raises(KoderzError, match=re.escape(f"outputs contain {message}")):
        render_report(data, out_dir=out, notebooks=["explore"], date=DAY)
    assert list(out.iterdir()) == []  # nothing kept


def test_a_key_shape_inside_an_image_is_no_secret(tmp_path: Path) -> None:
    # A figure's PNG, as base64 in the page, that spells a Google key's shape by chance (this
    # stopped a real report); the same letters printed as text still stop one.
    chance = "AAA+AIza" + "x" * 36
    show = (  # the cell's source (searched too) does not spell it
        "import base64\nfrom IPython.display import Image, display\n"
        "display(Image(data=base64.b64decode('AAA+AI' + 'za' + 'x' * 36), format='png'))"
    )
    (report,) = render_report(
        demo_data(tmp_path / "data", problems=1),
        out_dir=tmp_path / "out",
        notebooks=["probe"],
        notebook_dir=_probe_notebook(tmp_path / "nbs", show),
    )
    assert chance in report.html.read_text()
    with pytest.raises(KoderzError, match="shaped like an API key"):
        render_report(
            demo_data(tmp_path / "data2", problems=1),
            out_dir=tmp_path / "out2",
            notebooks=["probe"],
            notebook_dir=_probe_notebook(tmp_path / "nbs2", "print('AI' + 'za' + 'x' * 36)"),
        )


def _probe_notebook(folder: Path, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('data_dir = "data"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir()
    nbformat.write(nb, folder / "probe.ipynb")
    return folder


@pytest.mark.parametrize("ipc", [True, False], ids=["ipc", "tcp filtered"])
def test_no_kernel_transport_warning_in_the_output(
    ipc: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from koderz.analysis.report import kernels

    monkeypatch.setattr(kernels, "ipc_available", lambda: ipc)
    # The kernel process's own stderr still reaches the user, less the one warning.
    code = "import os\nos.write(2, b'kernel says hello\\n')"
    render_report(
        demo_data(tmp_path / "data", problems=1),
        out_dir=tmp_path / "out",
        notebooks=["probe"],
        notebook_dir=_probe_notebook(tmp_path / "nbs", code),
    )
    printed = capfd.readouterr()
    assert kernels.TCP_WARNING not in printed.err + printed.out
    assert "kernel says hello" in printed.err


def test_kernels_do_not_see_the_environment_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "not-shaped-like-a-key-1234")
    (report,) = render_report(
        demo_data(tmp_path / "data", problems=1),  # a report needs finished experiments
        out_dir=tmp_path / "out",
        notebooks=["probe"],
        notebook_dir=_probe_notebook(
            tmp_path / "nbs", "import os\nos.environ.get('ANTHROPIC_API_KEY')"
        ),
    )
    executed = nbformat.read(report.notebook, as_version=4)
    assert executed.cells[-1].outputs == []  # None: the variable was not there
    import os

    assert os.environ["ANTHROPIC_API_KEY"] == "not-shaped-like-a-key-1234"  # restored
