"""Command line: ``cxassess review``, ``pdf``, ``validate``, ``check-config``, ``sample``, ``import``,
``schema``, ``history``.

Exit status: 0 done; 1 an error cxassess raises on purpose (its message says what, where
and how to fix it) or an OS error (one line); 2 a usage error; 3 an internal error (a bug:
run again with ``--debug`` and report it); 130 interrupted. No traceback is shown unless
``cxassess --debug ...``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from cxassess.errors import CxAssessError, InputError, shown

__all__ = ["main"]


def _positive(text: str) -> int:
    """A whole number of at least 1 (argparse type)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


class _KeysHelp(argparse._HelpAction):
    """``check-config --help``: the usage, then every review.yml key (read only when asked,
    so that other commands do not import the settings' models).
    """

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: D102
        from cxassess.config_schema import reference_text

        parser.epilog = ("review.yml keys (type, default, meaning; lists of sections as key[]):\n"
                         + reference_text())
        super().__call__(parser, namespace, values, option_string)


def _review(args: argparse.Namespace) -> int:
    from cxassess.report import run_review

    run_review(
        args.dataset,
        args.cycle or None,
        previous=args.previous or None,
        notebooks=args.notebooks,
        reports=args.reports,
        jobs=args.jobs,
    )
    return 0


def _pdf(args: argparse.Namespace) -> int:
    """Print the review of a dataset and cycle (the latest by default) to one PDF."""
    from cxassess.config import load_config
    from cxassess.cycles import check_cycle_label, latest_cycle
    from cxassess.report import print_review

    config = load_config(args.dataset)
    if args.cycle:
        check_cycle_label(args.cycle, "--cycle")
    cycle = args.cycle or latest_cycle(config.root)
    pdf = print_review(Path(args.reports) / config.root.name / cycle, paper=args.paper)
    print(f"review printed to {shown(pdf)}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Run the data-quality gate alone; exit 1 when it finds a critical defect."""
    from cxassess.cycles import check_cycle_label
    from cxassess.quality import check_cycle
    from cxassess.quality.gate import release_freed_memory

    release_freed_memory()  # the gate runs in this process, one table after the other

    if args.cycle:
        check_cycle_label(args.cycle, "--cycle")
    # the checked tables go to the folder as the gate goes, or nowhere: none is held in memory
    report = check_cycle(args.dataset, args.cycle or None, store=args.quarantine, keep=False)
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


def _check_config(args: argparse.Namespace) -> int:
    """Validate review.yml alone; a problem raises a ConfigError listing every problem."""
    from cxassess.config import load_config

    config = load_config(args.dataset)
    print(f"review.yml is valid ({shown(config.path)})")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from cxassess.synth import SampleSpec, write_ecommerce_sample, write_sample

    if args.template == "ecommerce":
        cycles = _cycle_list(args.cycles) if args.cycles else ("2026Q2", "2026Q3")
        orders = (args.tickets_per_cycle if args.tickets_per_cycle is not None
                  else 400 if args.tickets is None else max(1, args.tickets // len(cycles)))
        root = write_ecommerce_sample(args.out, orders=orders, cycles=cycles, seed=args.seed)
        print(f"e-commerce sample written to {root} ({orders:,} orders per cycle, cycles {', '.join(cycles)})")
        return 0
    cycles = _cycle_list(args.cycles) if args.cycles else SampleSpec().cycles
    if args.tickets_per_cycle is not None:
        per_cycle = args.tickets_per_cycle
    else:
        per_cycle = max(1, (10_000 if args.tickets is None else args.tickets) // len(cycles))
    try:
        spec = SampleSpec(tickets_per_cycle=per_cycle, seed=args.seed, cycles=cycles,
                          survey_share=args.survey_share, categorised_share=args.categorised_share)
    except InputError as exc:
        raise InputError(f"cxassess sample: {exc.message}", fix=exc.fix) from None
    started = time.perf_counter()
    root = write_sample(args.out, spec, name=args.name)
    seconds = time.perf_counter() - started
    total = spec.tickets_per_cycle * len(spec.cycles)
    print(f"sample written to {root} ({spec.tickets_per_cycle:,} tickets per cycle, cycles {', '.join(cycles)}, "
          f"seed {spec.seed}) in {seconds:.1f} s ({total / seconds:,.0f} tickets/s)")
    return 0


def _cycle_list(text: str) -> tuple[str, ...]:
    """``2026Q2,2026Q3`` -> the cycle labels, each checked."""
    from cxassess.cycles import check_cycle_label

    labels = tuple(part.strip() for part in text.split(",") if part.strip())
    for label in labels:
        check_cycle_label(label, "--cycles")
    if not labels or len(set(labels)) != len(labels):
        raise InputError(f"--cycles {text!r}: no cycle, or one twice",
                         fix="give distinct cycle names separated by commas, e.g. 2026Q2,2026Q3")
    return labels


def _import(args: argparse.Namespace) -> int:
    """Import a raw export into a dataset folder; print what was guessed and what to check."""
    from cxassess.importer import import_source

    result = import_source(
        args.source,
        args.dataset,
        period=args.period,
        timezone=args.timezone,
        overrides=args.map,
        kind=args.kind,
        force=args.force,
    )
    print(result.summary())
    return 0


def _schema(args: argparse.Namespace) -> int:
    """Print the data contract, or bring the generated part of a README up to date."""
    from cxassess.contract import contract_json, contract_markdown, update_readme

    if args.update:
        fresh = update_readme(args.update)
        print(f"{args.update}: {'already up to date' if fresh else 'tables of the data contract rewritten'}")
        return 0
    print(contract_json(args.table) if args.format == "json" else contract_markdown(args.table), end="")
    return 0


def _history(args: argparse.Namespace) -> int:
    """List the cycles of the history store, or export one of its tables (CSV or Parquet)."""
    from cxassess import export, improve
    from cxassess.cycles import check_cycle_label

    store = improve.store_path(args.dataset, args.reports)
    if not store.is_file():
        raise InputError(f"no history store at {shown(store)}",
                         fix=f"run a review first: cxassess review --dataset {args.dataset}")
    for label in args.cycle:
        check_cycle_label(label, "--cycle")
    listed = improve.stored_cycles(store)
    unknown = [label for label in args.cycle if label not in set(listed["cycle"])]
    if unknown:
        raise InputError(
            f"--cycle {', '.join(unknown)}: not in the history store {shown(store)} "
            f"(cycles stored: {', '.join(listed['cycle']) or 'none'})",
            fix=f"give a stored cycle, or review that cycle first: cxassess review --dataset {args.dataset} "
                f"--cycle {unknown[0]}")
    for option, path in (("--csv", args.csv), ("--parquet", args.parquet)):
        if path is not None:
            _check_output(path, option, make_folder=option == "--parquet")
    if args.csv is None and args.parquet is None:
        if args.cycle:
            listed = listed[listed["cycle"].isin(args.cycle)]
        print(f"cxassess history: {shown(store)}, {len(listed)} cycle(s)")
        for row in listed.itertuples():
            written = "" if row.written_utc is None or str(row.written_utc) == "NaT" else f" written {row.written_utc:%Y-%m-%d %H:%M} UTC"
            print(f"  {row.cycle:<8} schema {row.schema_version}: {row.kpis} KPI rows, {row.stages} stages, "
                  f"{row.findings} findings, {row.weekly} weekly points{written}")
        return 0
    rows = improve.read_history(store, args.table, cycles=args.cycle or None)
    try:
        if args.csv is not None:
            export.write_csv(rows, args.csv)
            print(f"{len(rows):,} row(s) of {args.table} written to {shown(args.csv)}")
        if args.parquet is not None:
            args.parquet.parent.mkdir(parents=True, exist_ok=True)
            rows.to_parquet(args.parquet, index=False)
            print(f"{len(rows):,} row(s) of {args.table} written to {shown(args.parquet)}")
    except OSError as exc:  # no permission, disk full, read-only file system
        raise InputError(f"cannot write {shown(exc.filename or args.csv or args.parquet)}: "
                         f"{(exc.strerror or str(exc)).lower()}",
                         fix="write to a folder you can write to, e.g. --csv reports/history.csv") from None
    return 0


def _check_output(path: Path, option: str, *, make_folder: bool) -> None:
    """A clear InputError when ``path`` cannot be the file an option writes: a folder, in a
    folder that does not exist (unless ``make_folder``), under a file, or in a folder not
    writable.
    """
    how = f"give a file path in a folder you can write to, e.g. {option} reports/history.{option[2:]}"
    if path.is_dir():
        raise InputError(f"{option} {shown(path)} is a folder", fix=f"give a file name, e.g. {option} {shown(path / ('history.' + option[2:]))}")
    folder = path.parent
    above = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if above is not None and not above.is_dir():
        raise InputError(f"{option} {shown(path)}: {shown(above)} is a file, not a folder", fix=how)
    if not folder.exists() and not make_folder:
        raise InputError(f"{option} {shown(path)}: the folder {shown(folder)} does not exist",
                         fix=f"create it first (mkdir -p {shown(folder)}), or {how}")
    if above is not None and not os.access(above, os.W_OK | os.X_OK):
        raise InputError(f"{option} {shown(path)}: the folder {shown(above)} is not writable", fix=how)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxassess", description="Reproducible, honest review of a customer-service process."
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (give it before the command)")
    sub = parser.add_subparsers(dest="command", required=True)

    review = sub.add_parser("review", help="run every notebook and publish the HTML review")
    review.add_argument("--dataset", default="data/sample",
                        help="dataset folder with review.yml (default: data/sample, the sample of the repository)")
    review.add_argument("--cycle", default=None, help="cycle to review (default: the latest)")
    review.add_argument("--previous", default=None, help="cycle to compare with (default: the one before)")
    review.add_argument("--notebooks", default=None, type=Path,
                        help="folder of the notebooks (default: the review notebooks of cxassess)")
    review.add_argument("--reports", default="reports", type=Path,
                        help="root folder of the reports (default: reports, in the working folder)")
    review.add_argument("--jobs", default=None, type=_positive,
                        help="notebooks run at once (default: one per core, as the free memory allows)")
    review.set_defaults(run=_review)

    pdf = sub.add_parser("pdf", help="print a published review to one PDF (headless Chromium, offline)")
    pdf.add_argument("--dataset", default="data/sample",
                        help="dataset folder with review.yml (default: data/sample, the sample of the repository)")
    pdf.add_argument("--cycle", default=None, help="cycle of the review (default: the latest)")
    pdf.add_argument("--reports", default="reports", type=Path,
                        help="root folder of the reports (default: reports, in the working folder)")
    pdf.add_argument("--paper", default="A4", choices=("A4", "Letter"), help="paper size (default A4)")
    pdf.set_defaults(run=_pdf)

    validate = sub.add_parser("validate", help="run the data-quality gate alone on one cycle")
    validate.add_argument("--dataset", default="data/sample",
                        help="dataset folder with review.yml (default: data/sample, the sample of the repository)")
    validate.add_argument("--cycle", default=None, help="cycle to check (default: the latest)")
    validate.add_argument(
        "--quarantine", default=None, type=Path,
        help="folder to write quality.json and quarantine/<table>.csv to (default: print only)",
    )
    validate.set_defaults(run=_validate)

    check = sub.add_parser("check-config", help="validate review.yml: every problem at once", add_help=False,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("-h", "--help", action=_KeysHelp, help="show this help message and every review.yml key")
    check.add_argument("--dataset", default="data/sample",
                        help="dataset folder with review.yml (default: data/sample, the sample of the repository)")
    check.set_defaults(run=_check_config)

    sample = sub.add_parser("sample", help="generate the seeded sample dataset (any size)")
    size = sample.add_mutually_exclusive_group()
    size.add_argument("--tickets", type=_positive, default=None,
                      help="tickets (e-commerce: orders) over all cycles (default 10,000; e-commerce: 400 per cycle)")
    size.add_argument("--tickets-per-cycle", type=_positive, default=None, metavar="N",
                      help="tickets (e-commerce: orders) in each cycle")
    sample.add_argument("--cycles", default=None,
                        help="cycles to write, separated by commas (default: 2025Q4,2026Q1,2026Q2,2026Q3; "
                             "e-commerce: 2026Q2,2026Q3)")
    sample.add_argument("--survey-share", type=float, default=1.0,
                        help="share of closed tickets sent a survey (default 1)")
    sample.add_argument("--categorised-share", type=float, default=1.0,
                        help="share of tickets with a 'Categorised' event (default 1)")
    sample.add_argument("--seed", type=int, default=20_263, help="random seed (default 20263, the sample of the repository)")
    sample.add_argument("--out", type=Path, default=Path("data/sample"),
                        help="output folder (default: data/sample)")
    sample.add_argument("--name", default=None, help="dataset name written to review.yml")
    sample.add_argument("--template", choices=["support", "ecommerce"], default="support",
                        help="support desk (4 cycles, every table) or e-commerce journey (events, surveys)")
    sample.set_defaults(run=_sample)

    imp = sub.add_parser(
        "import", help="import a raw export (XES, CSV/Parquet event log, ticket register) into a dataset",
        description=(
            "Read an XES / XES.gz event log, a flat CSV or Parquet event log, or a ticket / complaint "
            "register; propose the column mapping from names and content; write DATASET/review.yml "
            "(every activity listed, guesses marked 'check') and one folder per cycle with the "
            "canonical columns (tickets created in the cycle, their events up to its end). The "
            "source is only read; re-running writes the same bytes."
        ),
    )
    imp.add_argument("source", type=Path, help="the exported file (.xes, .xes.gz, .csv, .parquet)")
    imp.add_argument("--dataset", type=Path, required=True, help="dataset folder to write, e.g. data/mydesk")
    imp.add_argument("--period", choices=["quarter", "month"], default="quarter", help="cycle length (default quarter)")
    imp.add_argument("--timezone", default=None,
                     help="IANA zone of the desk, e.g. Europe/Rome (default: guessed from UTC offsets, else UTC)")
    imp.add_argument("--map", action="append", default=[], metavar="CANONICAL=SOURCE",
                     help='map a source column to a canonical one, e.g. --map timestamp="Complete Timestamp" '
                          "(repeatable; CANONICAL= maps nothing)")
    imp.add_argument("--kind", choices=["events", "tickets"], default=None,
                     help="event log or ticket register (default: decided from the content)")
    imp.add_argument("--force", action="store_true", help="overwrite a dataset folder not written by cxassess import")
    imp.set_defaults(run=_import)

    schema = sub.add_parser("schema", help="print the data contract: tables, columns, types, allowed values")
    schema.add_argument("--table", default=None, help="one table (default: all)")
    schema.add_argument("--format", choices=["markdown", "json"], default="markdown", help="output format")
    schema.add_argument("--update", type=Path, default=None, metavar="README",
                        help="rewrite the generated tables in this file (data/README.md) instead of printing")
    schema.set_defaults(run=_schema)

    history = sub.add_parser("history", help="list the history store of a dataset, or export a table of it")
    history.add_argument("--dataset", default="data/sample",
                        help="dataset folder with review.yml (default: data/sample, the sample of the repository)")
    history.add_argument("--reports", default="reports", type=Path,
                        help="root folder of the reports (default: reports, in the working folder)")
    history.add_argument("--table", default="kpis",
                         choices=["kpis", "stages", "findings", "gate", "weekly", "runs"],
                         help="table to export (default kpis)")
    history.add_argument("--cycle", action="append", default=[], help="only this cycle (repeatable)")
    history.add_argument("--csv", type=Path, default=None, help="write the table to this CSV file")
    history.add_argument("--parquet", type=Path, default=None, help="write the table to this Parquet file")
    history.set_defaults(run=_history)
    return parser


def _os_error(exc: OSError) -> str:
    """An OS error as one line: what failed, on which file."""
    where = f": {shown(exc.filename)}" if exc.filename else ""
    return f"cxassess: error: {exc.strerror or exc}{where}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cxassess`` command; returns the exit status.

    Errors are not raised: an error cxassess raises on purpose is printed to standard error
    in one message and gives exit status 1 (see the module's notes for the others).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``cxassess``; default those of the command line.

    Returns
    -------
    int
        The exit status.

    Examples
    --------
    >>> main(["check-config", "--dataset", "data/sample"])
    review.yml is valid (data/sample/review.yml)
    0
    >>> main(["check-config", "--dataset", "data/nowhere"])  # the error goes to standard error
    1
    """
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("cxassess: interrupted", file=sys.stderr)
        return 130
    except CxAssessError as exc:
        _traceback(args)
        print(f"cxassess: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        _traceback(args)
        print(_os_error(exc), file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last resort: never a bare traceback
        _traceback(args)
        print(f"cxassess: internal error: {type(exc).__name__}: {exc} — run again with --debug "
              "and report it", file=sys.stderr)
        return 3


def _traceback(args: argparse.Namespace) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()
