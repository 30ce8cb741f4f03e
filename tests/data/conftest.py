"""tests/data holds exercises and rows as their publishers shape them: data that the
sandbox runs, not Koderz's tests. An exercise's own test file (``add_two_test.py``) is
named for its runner, so pytest would collect it here, against the shipped stub."""

collect_ignore_glob = ["polyglot/*", "multiple/*"]
