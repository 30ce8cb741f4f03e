"""The reports: what the notebooks work with and how they become pages. The top of the
figures, the words and the numbers; nothing of the analysis imports it.

- :mod:`~koderz.analysis.report.plots`: the ``plots`` namespace (``from koderz import plots``):
  every figure, table and section a report shows.
- :mod:`~koderz.analysis.report.widgets`: the ``widgets`` namespace: the explorer of the
  explore notebook.
- :mod:`~koderz.analysis.report.render`: ``koderz report``: a notebook run on a data folder
  with Papermill, kept as the executed notebook and an offline HTML page, with no secret.
- :mod:`~koderz.analysis.report.kernels`: the Jupyter kernels those notebooks run in.
"""
