"""Benchmarks of cxassess (``make bench`` or ``python -m tests.bench [--only NAME] [--reps N]``).

One module ``bench_<name>.py`` per benchmark exposes ``run(reps: int = 3) -> dict``; the
runner (``__main__``) writes what it returns to ``reports/bench/<name>.json`` with the
machine's facts, and ``--readme`` rewrites the table of the README from those files.
Benchmarks measure; they are never the oracle of a test.
"""
