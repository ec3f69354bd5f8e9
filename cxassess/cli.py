"""Command line: ``cxassess review``, ``cxassess validate``, ``cxassess sample``.

Errors that cxassess raises on purpose print their message (what, where, how to fix)
without a traceback and exit with status 1; a usage error exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cxassess.errors import CxAssessError

__all__ = ["main"]


def _review(args: argparse.Namespace) -> int:
    from cxassess.report import run_review

    run_review(
        args.dataset,
        args.cycle or None,
        previous=args.previous or None,
        notebooks=args.notebooks,
        reports=args.reports,
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Load every table of a cycle and report what cannot be read (counts and examples)."""
    from cxassess.config import TABLES
    from cxassess.io import load_cycle

    cycle = load_cycle(args.dataset, args.cycle or None, errors="coerce")
    print(f"cxassess validate: {cycle.config.name} {cycle.label}")
    unreadable = 0
    for table, df in cycle.tables.items():
        bad = df.attrs.get("unreadable", [])
        source = "derived from events" if table in cycle.derived else cycle.files[table].name
        print(f"  {table:<10} {len(df):>9,} rows  {source:<22} {len(bad):>6,} unreadable value(s)")
        for cell in bad[:5]:
            print(f"      row {cell['row']}, column {cell['column']}: {cell['value']!r} {cell['problem']}")
        unreadable += len(bad)
    for table in cycle.missing(*TABLES):
        print(f"  {table:<10} absent")
    print("no unreadable value" if not unreadable else f"{unreadable:,} unreadable value(s): fix the export")
    return 1 if unreadable else 0


def _sample(args: argparse.Namespace) -> int:
    from cxassess.synth import SampleSpec, write_sample

    spec = SampleSpec(tickets_per_cycle=max(1, args.tickets // 4), seed=args.seed)
    root = write_sample(args.out, spec, name=args.name)
    print(f"sample written to {root} ({spec.tickets_per_cycle:,} tickets per cycle, seed {spec.seed})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxassess", description="Reproducible, honest review of a customer-service process."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    review = sub.add_parser("review", help="run every notebook and publish the HTML review")
    review.add_argument("--dataset", default="data/sample", help="dataset folder with review.yml")
    review.add_argument("--cycle", default=None, help="cycle to review (default: the latest)")
    review.add_argument("--previous", default=None, help="cycle to compare with (default: the one before)")
    review.add_argument("--notebooks", default="notebooks", type=Path, help="folder of the notebooks")
    review.add_argument("--reports", default="reports", type=Path, help="root folder of the reports")
    review.set_defaults(run=_review)

    validate = sub.add_parser("validate", help="check that every table of a cycle can be read")
    validate.add_argument("--dataset", default="data/sample", help="dataset folder with review.yml")
    validate.add_argument("--cycle", default=None, help="cycle to check (default: the latest)")
    validate.set_defaults(run=_validate)

    sample = sub.add_parser("sample", help="generate the seeded sample dataset (any size)")
    sample.add_argument("--tickets", type=int, default=10_000, help="tickets over the four cycles")
    sample.add_argument("--seed", type=int, default=20_263, help="random seed")
    sample.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    sample.add_argument("--name", default=None, help="dataset name written to review.yml")
    sample.set_defaults(run=_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cxassess`` command."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except CxAssessError as exc:
        print(f"cxassess: error: {exc}", file=sys.stderr)
        return 1
