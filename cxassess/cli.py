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
    """Run the data-quality gate alone; exit 1 when it finds a critical defect."""
    from cxassess.quality import check_cycle

    report = check_cycle(args.dataset, args.cycle or None)
    print(f"cxassess validate: {report.dataset} {report.cycle} (Great Expectations suites)")
    for t in report.tables.itertuples():
        print(
            f"  {t.table:<10} {t.status:<9} {t.rows_read:>9,} read {t.rows_used:>9,} used "
            f"{t.rows_quarantined:>7,} quarantined  {t.file}"
        )
    for f in report.failures().itertuples():
        print(f"  {f.status.upper()} {f.table}.{f.column}: {f.reason} ({f.failed_rows:,} row(s)"
              f"{'; e.g. ' + f.examples if f.examples else ''}). Fix: {f.fix}")
    if args.quarantine:
        where = report.save(args.quarantine)
        print(f"  gate record and quarantined rows written to {where.parent}")
    print(report.verdict(markdown=False))
    return 1 if report.critical else 0


def _sample(args: argparse.Namespace) -> int:
    from cxassess.synth import SampleSpec, write_ecommerce_sample, write_sample

    if args.template == "ecommerce":
        root = write_ecommerce_sample(args.out, orders=max(1, args.tickets // 2), seed=args.seed)
        print(f"e-commerce sample written to {root} ({max(1, args.tickets // 2):,} orders per cycle, 2 cycles)")
        return 0
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

    validate = sub.add_parser("validate", help="run the data-quality gate alone on one cycle")
    validate.add_argument("--dataset", default="data/sample", help="dataset folder with review.yml")
    validate.add_argument("--cycle", default=None, help="cycle to check (default: the latest)")
    validate.add_argument(
        "--quarantine", default=None, type=Path,
        help="folder to write quality.json and quarantine/<table>.csv to (default: print only)",
    )
    validate.set_defaults(run=_validate)

    sample = sub.add_parser("sample", help="generate the seeded sample dataset (any size)")
    sample.add_argument("--tickets", type=int, default=10_000, help="tickets over the four cycles")
    sample.add_argument("--seed", type=int, default=20_263, help="random seed")
    sample.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    sample.add_argument("--name", default=None, help="dataset name written to review.yml")
    sample.add_argument("--template", choices=["support", "ecommerce"], default="support",
                        help="support desk (4 cycles, every table) or e-commerce journey (events, surveys)")
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
