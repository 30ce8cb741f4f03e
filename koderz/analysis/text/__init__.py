"""The words: sentences, text, JSON, formatted tables and HTML made from the numbers of
:mod:`koderz.analysis.stats`, with no matplotlib (``koderz analyze`` prints them without it).

- :mod:`~koderz.analysis.text.headlines`: the answer in sentences, never more than the data
  supports.
- :mod:`~koderz.analysis.text.output`: an analysis as text (``koderz analyze``) and as JSON
  (``--json``).
- :mod:`~koderz.analysis.text.tables`: the tables of a report and of a paper (markdown,
  LaTeX, CSV).
- :mod:`~koderz.analysis.text.methods`: the methods section: versions, models and prices,
  settings.
- :mod:`~koderz.analysis.text.story`: an experiment told step by step, the runs in one line
  each.
- :mod:`~koderz.analysis.text.pages`: the HTML a notebook shows: the answer, a story with
  diffs.
- :mod:`~koderz.analysis.text.formats`: the one money format of labels, tables and axes.
"""
