"""The figures: matplotlib drawings of the numbers of :mod:`koderz.analysis.stats`, labelled
with the words of :mod:`koderz.analysis.text`. Each returns a ``Figure``, or a
:class:`~koderz.analysis.figures.style.NoFigure` sentence saying why there is nothing to draw.

- :mod:`~koderz.analysis.figures.plane`: the cost/quality plane.
- :mod:`~koderz.analysis.figures.attempts`: the problems x strategies grid, partial credit by
  attempt.
- :mod:`~koderz.analysis.figures.charts`: the summary's bars and lines; saving figures.
- :mod:`~koderz.analysis.figures.style`: what every figure shares (style, colours, money axes).
- :mod:`~koderz.analysis.figures.scales`: the plane's cost axis (log, with a place for $0).
- :mod:`~koderz.analysis.figures.labels`: labels placed where they cover nothing.
"""
