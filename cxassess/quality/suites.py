"""The Great Expectations suites (``expectations/<table>.json``) and the values they take
from review.yml at run time (``$PARAMETER``).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from cxassess.config import ReviewConfig
from cxassess.errors import ConfigError
from cxassess.resources import suite_folder

__all__ = ["load_suite", "suite_folder", "suite_parameters"]


PARAMETER = "$PARAMETER"


def quiet_pyspark() -> None:
    """Silence pyspark's warning that it does not fully support pandas 3 yet, that one only.

    Great Expectations imports pyspark whenever it is installed (``cxassess[spark]``),
    although the gate validates pandas frames, and the warning would land in every
    notebook's output; the Spark engine's results are compared with pandas' in
    ``tests/test_engines.py``. Called when this module is imported, before GX is.

    Examples
    --------
    >>> quiet_pyspark()
    """
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


quiet_pyspark()


@cache
def gx_context() -> Any:
    """An ephemeral GX context (writes nothing, no network) with progress bars off, one per
    process.

    GX labels each in-memory batch under 1 GB with an MD5 of every row
    (``pandas_data_fingerprint``, seconds per million rows); the gate never uses that
    label (it fingerprints the input files itself), so the threshold is set to 0.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def frame_batches() -> Any:
    """GX's batch definition of a whole in-memory pandas frame, made once per process: a
    batch of any frame is ``frame_batches().get_batch(batch_parameters={"dataframe": df})``.

    Adding a data asset saves the context's configuration (a YAML dump, about 15 ms);
    ``data_sources.pandas_default.read_dataframe`` adds one per batch, 67 a cycle.

    Examples
    --------
    >>> import pandas as pd
    >>> batch = frame_batches().get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1, 2]})})
    >>> type(batch).__name__, frame_batches() is frame_batches()
    ('Batch', True)
    """
    source = gx_context().data_sources.add_pandas("cxassess")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


def load_suite(table: str, folder: Path | str | None = None) -> dict:
    """Read ``<folder>/<table>.json`` and check that GX knows every expectation in it.

    GX drops expectation types it does not know without failing; a suite that loses one
    would silently check less, so a count mismatch raises :class:`ConfigError`.

    Parameters
    ----------
    table : str
        A table of the data contract.
    folder : Path or str, optional
        The folder of the suites; default :func:`suite_folder`.

    Returns
    -------
    dict
        The suite as JSON (``name``, ``meta``, ``expectations``).

    Raises
    ------
    ConfigError
        When the suite is missing, is not valid JSON, or names an expectation GX does not know.

    Examples
    --------
    >>> suite = load_suite("tickets")
    >>> suite["expectations"][0]["type"]
    'expect_table_columns_to_match_set'
    """
    import great_expectations as gx

    path = Path(folder or suite_folder()) / f"{table}.json"
    if not path.is_file():
        raise ConfigError(f"no data-quality suite for {table}: {path} is missing.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    gx_context()  # quiets GX's logger before it reports dropped expectations
    loaded = gx.ExpectationSuite(name=data["name"], expectations=data["expectations"])
    if len(loaded.expectations) != len(data["expectations"]):
        known = Counter(e.expectation_type for e in loaded.expectations)
        written = Counter(e["type"] for e in data["expectations"])
        dropped = sorted((written - known).elements())
        raise ConfigError(
            f"{path}: Great Expectations loaded {len(loaded.expectations)} of "
            f"{len(data['expectations'])} expectations; it does not know {', '.join(dropped)}. "
            "Correct the expectation type (see the GX 1.x gallery)."
        )
    return data


def suite_parameters(
    config: ReviewConfig,
    *,
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> dict[str, Any]:
    """The ``$PARAMETER`` values of the suites, from review.yml and the cycle.

    A parameter is left out when the dataset does not define it; expectations that
    need it are then reported as not applicable.

    Parameters
    ----------
    config : ReviewConfig
        The dataset's review.yml.
    window : (pandas.Timestamp, pandas.Timestamp), optional
        The cycle window ``[start, end)``; widened by ``quality.window_tolerance_days``
        (default 1) on both sides.

    Returns
    -------
    dict of str to Any
        Parameter name -> value: lists of allowed values, ``activities``, ``criteria``,
        ``window_start`` and ``window_end``.

    Examples
    --------
    >>> from cxassess.config import load_config
    >>> p = suite_parameters(load_config("data/sample"))
    >>> p["channels"]
    ['email', 'chat', 'phone', 'web']
    """
    params: dict[str, Any] = {}
    for kind in ("channels", "priorities", "categories", "teams", "survey_kinds", "languages"):
        if config.values(kind):
            params[kind] = config.values(kind)
    if config.process is not None:
        params["activities"] = sorted(config.process.activities)
    criteria = [str(c["criterion"]) for c in config.raw.get("qa_scorecard") or [] if "criterion" in c]
    if criteria:
        params["criteria"] = criteria
    if window is not None:
        tolerance = pd.Timedelta(days=float(quality_option(config, "window_tolerance_days", 1)))
        params["window_start"] = window[0] - tolerance
        params["window_end"] = window[1] + tolerance
    return params


def quality_option(config: ReviewConfig, key: str, default: float) -> float:
    return float((config.raw.get("quality") or {}).get(key, default))
