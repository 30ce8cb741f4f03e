"""The HTML a notebook shows and its rendered page keeps: the report's answer as paragraphs
(:func:`answer_html`), one experiment's story with the diff between its attempts
(:func:`story_html`, the steps of :func:`koderz.analysis.text.story.story`, which the text
story tells too), and :class:`Html`, a string Jupyter renders."""

from __future__ import annotations

import difflib
import html
from collections.abc import Sequence

import pandas as pd

from koderz.analysis.text.story import end_words, story
from koderz.store import CODE_ROLES

__all__ = ["Html", "Note", "answer_html", "story_html"]

# Inline, with its own font: Voila's page (and a mail client's) gives <pre> no monospace font.
_PRE_STYLE = (
    "background:#f6f8fa;padding:6px;overflow-x:auto;white-space:pre;"
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,Liberation Mono,monospace"
)


def _pre(text: str) -> str:
    return f'<pre style="{_PRE_STYLE}">{html.escape(text)}</pre>'


def _diff_html(before: str, after: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), old, new
    )
    colours = {"+": "#1a7f37", "-": "#cf222e", "@": "#8250df"}
    out = []
    for line in lines:
        colour = colours.get(line[:1], "#57606a")
        out.append(f'<span style="color:{colour}">{html.escape(line.rstrip(chr(10)))}</span>')
    return f'<pre style="{_PRE_STYLE}">' + "\n".join(out) + "</pre>"


class Html(str):
    """A string of HTML that Jupyter shows rendered (and a static report keeps)."""

    def _repr_html_(self) -> str:
        return str(self)


class Note(str):
    """A sentence that stands where a table has nothing to show, saying why; Jupyter shows
    it as a paragraph.

    Examples:
        >>> Note("Not split: set split_by.")._repr_html_()
        '<p><em>Not split: set split_by.</em></p>'
    """

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(str(self))}</em></p>"


def answer_html(sentences: Sequence[str]) -> Html:
    """The report's answer: each sentence of ``Analysis.headlines()`` as a paragraph, the
    comparisons in bold.

    Examples:
        >>> answer_html(["b is the baseline.", "a is 2.0 times cheaper than b."])
        '<p>b is the baseline.</p><p><strong>a is 2.0 times cheaper than b.</strong></p>'
    """
    parts = []
    for i, s in enumerate(sentences):
        text = html.escape(s)
        parts.append(f"<p>{text}</p>" if i == 0 else f"<p><strong>{text}</strong></p>")
    return Html("".join(parts))


def story_html(steps: pd.DataFrame, experiment_id: str | None = None) -> Html:
    """One experiment as HTML: the spec (reused or not), each attempt's code with its diff
    from the previous attempt, test results and feedback (or the failed model call), the
    reviewer's guidance (and whether the attempts had plateaued), a cascade's rung, and what
    each step cost: the steps of :func:`koderz.analysis.text.story.story`, which the text story
    tells too.

    Examples:
        >>> steps = pd.DataFrame({"experiment_id": "e", "role": ["attempt", "attempt"],
        ...     "iteration": [1, 2], "code": ["x = 1\\n", "x = 2\\n"], "passed": [False, True],
        ...     "tests_passed": [0, 1], "tests_total": [1, 1], "cost_usd": [0.0, 0.0],
        ...     "started_at": [1, 2]})
        >>> "attempt 1 &rarr; attempt 2" in story_html(steps, "e")
        True
    """
    if experiment_id is None:  # the first experiment recorded
        ids = steps["experiment_id"].dropna()
        if ids.empty:
            return Html("<p>No experiments in the data.</p>")
        experiment_id = str(ids.iloc[0])
    told = story(steps, experiment_id)
    parts: list[str] = []
    previous: tuple[int, str] | None = None
    for step in told.steps:
        title = html.escape(step.title)
        who = html.escape(step.who)
        if step.role == "end":
            reason = f": {html.escape(step.error)}" if step.error else ""
            answer = f"; {html.escape(end_words(step))}" if end_words(step) else ""
            parts.append(
                f"<h4>End &mdash; {html.escape(step.status)}{reason} after {step.iteration} "
                f"attempt(s){answer}, ${told.total_usd:.6f} in all</h4>"
            )
        elif step.call_failed:
            parts.append(f"<h4>{title} &mdash; model call failed &mdash; {who}</h4>")
            parts.append(_pre(step.text))
        elif step.role in CODE_ROLES:
            verdict = "passed" if step.passed else "failed"
            seen = f", visible tests {html.escape(step.visible)}" if step.visible else ""
            parts.append(
                f"<h4>{title} &mdash; {verdict}, {html.escape(step.tests)}{seen} &mdash; {who}, "
                f"${step.cost_usd:.6f}</h4>"
            )
            parts.append(_pre(step.text))
            if previous is not None:
                it = step.iteration
                parts.append(f"<p>Diff: attempt {previous[0]} &rarr; attempt {it}</p>")
                parts.append(
                    _diff_html(previous[1], step.text, f"attempt {previous[0]}", f"attempt {it}")
                )
            if step.feedback:
                parts.append("<p>Feedback shown to the worker:</p>" + _pre(step.feedback))
            previous = (step.iteration, step.text)
        else:
            parts.append(f"<h4>{title} &mdash; {who}, ${step.cost_usd:.6f}</h4>")
            parts.append(_pre(step.text))
    head = (
        f"<h3>{html.escape(experiment_id)}: problem {html.escape(told.problem_id)}, strategy "
        f"{html.escape(told.strategy)}</h3>"
        if told.problem_id and told.strategy
        else ""
    )
    return Html(head + "\n".join(parts))
