"""The engine: one experiment and many.

An experiment is one problem under one strategy in one epoch; a run is many of them, under
one budget, resumable. The modules, in the order a run meets them:

- ``switches``: the table of a strategy's settings (defaults, flags, help): the one list
  ``strategies``, the command line and ``benchmark`` are made from.
- ``strategies``: what a strategy is (its kind and switches); ``strategy_files``: the TOML
  files of them, and the built-in presets.
- ``preflight``: the checks made before any money is spent (models, keys, servers).
- ``runs``: a run's manifest and its lock, beside its rows.
- ``benchmark``: what a run is (strategies x problems x epochs, what an earlier session
  left), its progress bar and its result.
- ``schedule``: the experiments on local threads or a Dask cluster, and the limits on
  calls in flight.
- ``experiment``: the loop of one experiment, writing each step as a row; ``rows``: the
  rows it writes beside its calls' (an attempt's verdicts, the end).
- ``briefs``: the briefs (specs and plans) kept for ``reuse_spec``.
- ``own_tests``: the tester's reply planned into test cases, those that cannot run dropped.
- ``grading``: an attempt run against the hidden and the visible tests, and the feedback.
- ``stopping``: the stop rule's decisions: stop here, which answer to submit, keep a rung.
- ``prompts``: the texts sent to the models, versioned.
- ``calls``: one model call (seeds, cache, slot, budget, price) and the run's budget.
- ``cache``: the call cache shared by threads, processes and Dask workers.

The roles the models play (the worker; the spec model or the architect, who writes the
brief; the reviewer, with its reviews and consultations; the tester; the repairer) and the
other names used here (grader, stop rule, the sandbox's judge) are in the "Names" section
of docs/strategies.md.

Nothing is imported here: ``import koderz.engine.switches`` (the command line's parser
needs it) must not load pandas and the model clients.
"""
