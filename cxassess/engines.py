"""Where the KPIs are computed: pandas or Polars in memory, or DuckDB or Spark where the
data lives (issue 18).

The calculators of :mod:`cxassess.kpis` take a frame in memory (pandas, Polars) or a lazy
one (a Polars ``LazyFrame``, a DuckDB relation, a PySpark DataFrame, all through
narwhals). On a lazy frame they run their group-by aggregations in its engine and bring
back only the small aggregate; the intervals are computed on it in NumPy/SciPy by the same
code for every engine. This module opens the tables on an engine:

* :func:`read_parquet`: one Parquet file, or a partitioned Parquet folder
  (``<folder>/cycle=2026Q3/part-0.parquet``), keeping one partition;
* :func:`checked_tables`: the checked tables of a cycle (the Parquet files the
  data-quality gate writes, quarantined rows left out);
* :func:`engine_cycle`: a cycle whose tables are those lazy frames, for
  :func:`cxassess.kpis.cycle_kpis` (the scorecard) to aggregate in the engine;
* :func:`on_engine`: a cycle on the engine of its review (review.yml ``engine``,
  ``CXASSESS_ENGINE``), opened once per cycle, for the scorecard and the process page;
* :func:`spark_session`: the Spark session, created once per process: a local one
  (``local[2]``) by default, or Spark Connect when ``SPARK_REMOTE`` names a server
  (``sc://host:15002``).

=========  =============================================================================
engine     tables are
=========  =============================================================================
pandas     pandas DataFrames in memory (the default)
polars     Polars LazyFrames (scanned from Parquet, collected per aggregate)
duckdb     DuckDB relations (the aggregation is SQL run by DuckDB)
spark      PySpark DataFrames (the aggregation is a Spark job; needs Java and pyspark)
=========  =============================================================================
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import narwhals as nw
import pandas as pd

from cxassess.errors import ConfigError

if TYPE_CHECKING:
    from cxassess.config import ReviewConfig
    from cxassess.cycles import Cycle

__all__ = ["ENGINES", "MEMORY_BUDGET_BYTES", "check_engine", "engine_of", "memory_budget", "spark_session",
           "duckdb_settings", "read_parquet", "open_tables", "checked_tables", "engine_cycle", "on_engine",
           "write_partitioned"]

#: The engines a review can run on (review.yml ``engine``).
ENGINES = ("pandas", "polars", "duckdb", "spark")


#: The memory a whole review may use (bytes, every process: the review, the gate's process,
#: the kernels); ``$CXASSESS_MEMORY_BUDGET`` changes it (e.g. ``8GB``, ``6GiB``, bytes).
MEMORY_BUDGET_BYTES = 3 * 10**9

#: Share of the memory budget DuckDB may hold before it writes to its temporary folder (the
#: rest is this process's Python, pandas and the aggregates brought back). Measured with a
#: 50 M-event cycle (make bench-scale): DuckDB's default (80 % of the machine's memory) peaked
#: at 11.0 GiB, a limit of 2 GB at 2.2 GiB for the whole process, in about the same time.
DUCKDB_SHARE = 2 / 3


def memory_budget() -> int:
    """The memory a review may use, all processes (bytes): ``$CXASSESS_MEMORY_BUDGET`` when
    set (``3GB``, ``2.5GiB``, ``500MB`` or bytes), else :data:`MEMORY_BUDGET_BYTES`.

    Returns
    -------
    int
        Bytes.

    Raises
    ------
    ConfigError
        ``$CXASSESS_MEMORY_BUDGET`` is not a size.

    Examples
    --------
    >>> import os
    >>> os.environ["CXASSESS_MEMORY_BUDGET"] = "2.5GiB"
    >>> memory_budget() == int(2.5 * 2**30)
    True
    >>> del os.environ["CXASSESS_MEMORY_BUDGET"]
    >>> memory_budget()
    3000000000
    """
    text = os.environ.get("CXASSESS_MEMORY_BUDGET", "").strip()
    if not text:
        return MEMORY_BUDGET_BYTES
    units = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)", text)
    if match is None or match[2].upper() not in units:
        raise ConfigError(f"CXASSESS_MEMORY_BUDGET={text!r} is not a size",
                          fix="set it to a size such as 3GB, 2.5GiB or 800MB, or unset it")
    return int(float(match[1]) * units[match[2].upper()])


def check_engine(engine: str) -> str:
    """``engine`` when it names an engine of :data:`ENGINES`, else a ConfigError.

    Parameters
    ----------
    engine : str
        The engine's name.

    Returns
    -------
    str
        ``engine``.

    Raises
    ------
    ConfigError
        When the engine is not known.

    Examples
    --------
    >>> check_engine("duckdb")
    'duckdb'
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine {engine!r} is not known", fix=f"use one of {', '.join(ENGINES)}")
    return engine


@functools.cache
def spark_session():
    """The Spark session of this process, created on first use.

    With ``SPARK_REMOTE`` set (``sc://host:15002``), a Spark Connect session to that
    server; else a local session on two cores (``local[2]``) with two shuffle
    partitions (the aggregates are small), no web UI, timestamps in UTC, and partition
    values read as text (``cycle=2026-07`` stays the label, not a date).

    Returns
    -------
    pyspark.sql.SparkSession
        The session.

    Raises
    ------
    ModuleNotFoundError
        Without pyspark (``pip install cxassess[spark]``); a local session also needs Java.

    Examples
    --------
    >>> spark_session() is spark_session()  # doctest: +SKIP
    True
    """
    from cxassess.quality.suites import quiet_pyspark

    quiet_pyspark()
    from pyspark.sql import SparkSession

    remote = os.environ.get("SPARK_REMOTE")
    builder = SparkSession.builder.appName("cxassess")
    if remote:
        builder = builder.remote(remote)
    else:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local session stays on this machine
        builder = (builder.master("local[2]")
                   .config("spark.sql.shuffle.partitions", "2")
                   .config("spark.default.parallelism", "2")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    session = builder.getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    if not remote:
        session.sparkContext.setLogLevel("ERROR")
    return session


@functools.cache
def duckdb_settings() -> dict[str, str]:
    """Set DuckDB's default connection, once per process, to hold at most
    :data:`DUCKDB_SHARE` of the memory budget (:func:`memory_budget`) and to write what does
    not fit to a temporary folder of its own (removed when the process ends), and return
    those settings. :func:`read_parquet` calls it before its first DuckDB table: a cycle
    larger than memory is then sorted and grouped in parts on disk instead of taking the
    machine's memory (DuckDB's own default is 80 % of it).

    Returns
    -------
    dict of str to str
        ``memory_limit`` and ``temp_directory`` as DuckDB reports them.

    Examples
    --------
    >>> sorted(duckdb_settings())
    ['memory_limit', 'temp_directory']
    """
    import atexit
    import shutil

    import duckdb

    spill = tempfile.mkdtemp(prefix="cxassess-duckdb-")
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    limit_mib = max(256, int(memory_budget() * DUCKDB_SHARE) // 2**20)
    duckdb.execute(f"SET memory_limit = '{limit_mib}MiB'").fetchall()  # each result read to its end
    duckdb.execute(f"SET temp_directory = {_quote(spill)}").fetchall()
    return {k: str(duckdb.execute(f"SELECT current_setting('{k}')").fetchall()[0][0])
            for k in ("memory_limit", "temp_directory")}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_parquet(
    path: Path | str, engine: str = "pandas", *, partition: Mapping[str, str] | None = None
) -> nw.DataFrame | nw.LazyFrame:
    """A Parquet table opened on ``engine``: a file, or a partitioned folder of which the
    rows of one partition are kept.

    A partitioned folder holds one sub-folder per value of each partition column
    (``<path>/cycle=2026Q3/part-0.parquet``, as Spark, DuckDB, Polars and pyarrow write
    them). ``partition`` keeps the rows of those values (read only from their folders,
    where the engine prunes partitions) and drops the partition columns.

    Parameters
    ----------
    path : Path or str
        A Parquet file, or a partitioned folder of Parquet files (a local folder, or a
        URI the engine reads: ``s3://``, ``abfss://``, ``hdfs://`` ...).
    engine : {"pandas", "polars", "duckdb", "spark"}, default "pandas"
        Where the table is read (see :data:`ENGINES`).
    partition : mapping of str to str, optional
        Partition column to its value, e.g. ``{"cycle": "2026Q3"}``.

    Returns
    -------
    narwhals.DataFrame or narwhals.LazyFrame
        A pandas DataFrame in memory (``pandas``), else a lazy frame of the engine.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "tickets"
    >>> t = pd.DataFrame({"ticket_id": ["T1", "T2", "T3"], "cycle": ["2026Q2", "2026Q3", "2026Q3"]})
    >>> write_partitioned(t, folder, "cycle")
    >>> q3 = read_parquet(folder, "duckdb", partition={"cycle": "2026Q3"})
    >>> sorted(q3.collect()["ticket_id"].to_list()), q3.collect_schema().names()
    (['T2', 'T3'], ['ticket_id'])
    """
    engine = check_engine(engine)
    where = dict(partition or {})
    local = "://" not in str(path)
    folder = local and Path(path).is_dir()
    if engine == "pandas":
        filters = [(k, "==", v) for k, v in where.items()] or None
        native = pd.read_parquet(path, filters=filters)
        for k in where:
            if k in native.columns:
                native = native.drop(columns=k)
        return nw.from_native(native, eager_only=True)
    if engine == "polars":
        import polars as pl

        source = f"{str(path).rstrip('/')}/**/*.parquet" if folder or (not local and where) else str(path)
        lazy = nw.from_native(pl.scan_parquet(source, hive_partitioning=bool(where) or None))
    elif engine == "duckdb":
        import duckdb

        duckdb_settings()
        source = f"{str(path).rstrip('/')}/**/*.parquet" if folder or (not local and where) else str(path)
        options = ", hive_partitioning = true, hive_types_autocast = false" if where else ""
        lazy = nw.from_native(duckdb.sql(f"SELECT * FROM read_parquet({_quote(source)}{options})"))
    else:
        lazy = nw.from_native(spark_session().read.parquet(str(path)))
    if where:
        lazy = lazy.filter(*[nw.col(k).cast(nw.String) == str(v) for k, v in where.items()]).drop(*where)
    return lazy


def write_partitioned(table: pd.DataFrame, folder: Path | str, by: str | Sequence[str]) -> None:
    """Write a table as a partitioned Parquet folder, one sub-folder per value of ``by``
    (``<folder>/cycle=2026Q3/...``), the layout :func:`read_parquet` reads.

    Parameters
    ----------
    table : pandas.DataFrame
        The table, with the partition column(s).
    folder : Path or str
        The folder (created when missing).
    by : str or sequence of str
        The partition column(s).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_partitioned(pd.DataFrame({"x": [1, 2], "cycle": ["2026Q2", "2026Q3"]}), folder, "cycle")
    >>> sorted(p.name for p in folder.iterdir())
    ['cycle=2026Q2', 'cycle=2026Q3']
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [by] if isinstance(by, str) else list(by)
    data = pa.Table.from_pandas(table.astype({c: "str" for c in columns}), preserve_index=False)
    pq.write_to_dataset(data, str(folder), partition_cols=columns)


def open_tables(folder: Path | str, engine: str = "pandas",
                tables: Sequence[str] | None = None) -> dict[str, nw.DataFrame | nw.LazyFrame]:
    """The tables of a folder of ``<table>.parquet`` files opened on ``engine``.

    Parameters
    ----------
    folder : Path or str
        The folder (the checked tables of a cycle: :func:`checked_tables`).
    engine : {"pandas", "polars", "duckdb", "spark"}, default "pandas"
        Where they are read.
    tables : sequence of str, optional
        The tables to open (default: every ``*.parquet`` file of the folder).

    Returns
    -------
    dict of str to narwhals.DataFrame or narwhals.LazyFrame
        Each table by name; a table of ``tables`` without a file is left out.

    Examples
    --------
    >>> import tempfile
    >>> from cxassess.cycles import store_table
    >>> folder = tempfile.mkdtemp()
    >>> _ = store_table(pd.DataFrame({"ticket_id": ["T1"]}), folder, "tickets")
    >>> {k: type(v).__name__ for k, v in open_tables(folder, "polars").items()}
    {'tickets': 'LazyFrame'}
    """
    folder = Path(folder)
    names = list(tables) if tables is not None else sorted(p.stem for p in folder.glob("*.parquet"))
    return {t: read_parquet(folder / f"{t}.parquet", engine) for t in names if (folder / f"{t}.parquet").is_file()}


def checked_tables(dataset: Path | str, cycle: str | None = None, engine: str = "pandas",
                   report_dir: Path | str | None = None) -> dict[str, nw.DataFrame | nw.LazyFrame]:
    """The checked tables of a cycle (quarantined rows left out) opened on ``engine``.

    They are the Parquet files the data-quality gate wrote beside its report: the review
    run's (``report_dir``) when the data has not changed, else the saved gate of
    :func:`cxassess.quality.gate_cache` (the gate runs when there is none).

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    cycle : str, optional
        The cycle label; default the latest cycle folder.
    engine : {"pandas", "polars", "duckdb", "spark"}, default "pandas"
        Where the tables are read.
    report_dir : Path or str, optional
        Folder where the review run saved the gate.

    Returns
    -------
    dict of str to narwhals.DataFrame or narwhals.LazyFrame
        Each table of the cycle by name.

    Raises
    ------
    DataQualityError
        When the gate found a critical defect.

    Examples
    --------
    >>> t = checked_tables("data/sample", "2026Q3", "duckdb")  # doctest: +SKIP
    >>> t["tickets"].select(nw.len()).collect().item()  # doctest: +SKIP
    2500
    """
    from cxassess.quality.checked import checked_folder

    return open_tables(checked_folder(dataset, cycle, report_dir), check_engine(engine))


def engine_of(config: ReviewConfig) -> str:
    """The engine a review runs on: ``CXASSESS_ENGINE`` when set (``make report
    ENGINE=spark``), else review.yml ``engine`` (default ``pandas``).

    Parameters
    ----------
    config : ReviewConfig
        The dataset's review.yml.

    Returns
    -------
    str
        One of :data:`ENGINES`.

    Raises
    ------
    ConfigError
        When ``CXASSESS_ENGINE`` names no engine.

    Examples
    --------
    >>> from cxassess.config import load_config
    >>> os.environ.pop("CXASSESS_ENGINE", None) and None
    >>> engine_of(load_config("data/sample"))
    'pandas'
    """
    chosen = os.environ.get("CXASSESS_ENGINE")
    return check_engine(chosen) if chosen else config.engine


def engine_cycle(cycle: Cycle, engine: str, folder: Path | str | None = None) -> Cycle:
    """``cycle`` with its tables opened on ``engine`` as lazy frames: the calculators, and
    :func:`cxassess.kpis.cycle_kpis` with them, aggregate there.

    Each table is read by the engine from the Parquet file the gate wrote (the checked
    table, :meth:`cxassess.cycles.Tables.parquet`), or from ``folder``; a table that was
    only in memory (built or replaced since) is written to a temporary Parquet file first.

    Parameters
    ----------
    cycle : Cycle
        The (checked) cycle.
    engine : {"pandas", "polars", "duckdb", "spark"}
        Where the tables are read; ``pandas`` gives ``cycle`` itself.
    folder : Path or str, optional
        A folder holding the tables as ``<table>.parquet``, used first.

    Returns
    -------
    Cycle
        A copy of the cycle whose tables are lazy frames of the engine.

    Examples
    --------
    >>> import tempfile
    >>> from cxassess.cycles import load_cycle, store_tables
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> folder = tempfile.mkdtemp()
    >>> _ = store_tables(q3, folder)
    >>> type(engine_cycle(q3, "duckdb", folder).tickets).__name__
    'DuckDBPyRelation'
    """
    from cxassess.cycles import Tables, store_table

    if check_engine(engine) == "pandas":
        return cycle
    given = Path(folder) if folder is not None else None
    spill: Path | None = None
    opened = {}
    for name in list(cycle.tables):
        path = given / f"{name}.parquet" if given is not None else None
        if path is None or not path.is_file():
            path = cycle.tables.parquet(name) if isinstance(cycle.tables, Tables) else None
        if path is None or not path.is_file():
            if spill is None:
                spill = Path(tempfile.mkdtemp(prefix="cxassess-engine-"))
            path = store_table(cycle.tables[name], spill, name)
        opened[name] = read_parquet(path, engine).to_native()
    return cycle.with_tables(**opened)


def on_engine(cycle: Cycle) -> Cycle:
    """The cycle whose tables a page aggregates: the cycle itself on pandas, else its tables
    opened on the review's engine (:func:`engine_of`) by :func:`engine_cycle`, once per
    cycle (:meth:`cxassess.cycles.Cycle.once`: the scorecard and the process page share it).

    A cycle whose tables are already lazy frames of an engine, or that holds no table, is
    returned as it is.

    Parameters
    ----------
    cycle : Cycle
        The (checked) cycle.

    Returns
    -------
    Cycle
        ``cycle``, or a copy of it whose tables are lazy frames of the engine.

    Raises
    ------
    ConfigError
        When ``CXASSESS_ENGINE`` names no engine.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> previous = os.environ.get("CXASSESS_ENGINE")
    >>> os.environ["CXASSESS_ENGINE"] = "duckdb"
    >>> opened = on_engine(q3)
    >>> type(opened.events).__name__, on_engine(q3) is opened
    ('DuckDBPyRelation', True)
    >>> os.environ["CXASSESS_ENGINE"] = "pandas"
    >>> on_engine(q3) is q3
    True
    >>> os.environ.pop("CXASSESS_ENGINE") and previous and os.environ.update(CXASSESS_ENGINE=previous)
    """
    from cxassess.cycles import Tables

    engine = engine_of(cycle.config) if cycle.config is not None else "pandas"
    if engine == "pandas" or not len(cycle.tables):
        return cycle
    name = "tickets" if "tickets" in cycle.tables else next(iter(cycle.tables))
    stored = isinstance(cycle.tables, Tables) and cycle.tables.parquet(name) is not None
    if not stored and isinstance(nw.from_native(cycle.tables[name], pass_through=True), nw.LazyFrame):
        return cycle  # already on an engine
    return cycle.once(("engine_cycle", engine), lambda: engine_cycle(cycle, engine))
