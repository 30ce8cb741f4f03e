"""The numbers: pure functions from the steps table to tables, records and tests, by the
definitions in :mod:`koderz.analysis`. No sentence, figure or page is made here, and nothing
here imports the layers that make them.

- :mod:`~koderz.analysis.stats.metrics`: the per-experiment table, the per-strategy summary,
  costs by tier and role, pass rate by attempts, the cost curve, re-pricing.
- :mod:`~koderz.analysis.stats.savings`: savings against the measured baseline and the
  estimate, with paired bootstrap intervals.
- :mod:`~koderz.analysis.stats.compare`: the tested difference in pass rate, the Pareto
  front, which strategy is the measured baseline (pure Python).
- :mod:`~koderz.analysis.stats.estimators`: pass@k (pure Python: ``koderz evaluate`` uses it
  without pandas).
- :mod:`~koderz.analysis.stats.choice`: the router ceiling and the held-out choice.
- :mod:`~koderz.analysis.stats.leakage`: what feedback leaks.
- :mod:`~koderz.analysis.stats.testers`: how often a tester wrote wrong tests.
- :mod:`~koderz.analysis.stats.attempts`: partial credit by attempt, the problems grid.
"""
