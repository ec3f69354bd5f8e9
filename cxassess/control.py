"""Process-behaviour charts: XmR (individuals and moving range) with the Western Electric and
Nelson run rules, to tell a signal from routine variation in a weekly KPI.

An XmR chart needs no assumption about the distribution of the values and no subgroups:

* the centre line is the average of the values, X̄;
* the natural process limits are X̄ ± 2.66 × mR̄, where mR̄ is the average moving range
  (the absolute difference between two consecutive values); 2.66 = 3 / d₂ with d₂ = 1.128
  for ranges of two values, so the limits sit at "three sigma";
* the moving range chart's upper range limit is 3.268 × mR̄ (D₄ for ranges of two);
* for a measure that cannot be negative (a rate, a count, a duration) a lower limit below 0
  is set to 0 (``floor=0``), as is usual: a limit the measure cannot reach means nothing.

A documented shift (an action done, a new tool) starts a new *phase*: its limits are
recomputed from its own values, and no moving range spans two phases (:func:`xmr`).

The run rules (:data:`RULES`) look for patterns routine variation rarely makes, each in
words a CX lead reads. Rule 1 (a point beyond the limits) is the "three-sigma" rule: a stable
process crosses a limit about 3 times in 1,000 points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxassess.errors import InputError

__all__ = ["E2", "D4", "RULES", "xmr", "run_rules", "signals", "phases_from_shifts"]

#: Scaling factor of the average moving range to the natural process limits (3 / 1.128).
E2 = 2.66
#: Scaling factor of the average moving range to the upper range limit (D4 for n = 2).
D4 = 3.268

#: The run rules: id → what it means, in words. Rules 1-4 are the Western Electric rules,
#: 5 is Nelson's trend rule, "mr" the moving range chart's own limit.
RULES = {
    "1": "a point beyond the natural process limits (three sigma)",
    "2": "2 of 3 points in a row beyond two sigma on the same side",
    "3": "4 of 5 points in a row beyond one sigma on the same side",
    "4": "8 points in a row on the same side of the centre line",
    "5": "6 points in a row steadily rising or steadily falling",
    "mr": "a jump between two consecutive points above the upper range limit",
}


def phases_from_shifts(index: Sequence, shifts: Sequence) -> np.ndarray:
    """Phase number of each point: 0 before the first shift, 1 from it on, and so on.

    Parameters
    ----------
    index : sequence
        The points' positions in time (dates, weeks), sorted.
    shifts : sequence
        Instants of documented shifts; a point at or after a shift is in the new phase.

    Returns
    -------
    numpy.ndarray
        One integer per point.

    Examples
    --------
    >>> phases_from_shifts([1, 2, 3, 4, 5], [3]).tolist()
    [0, 0, 1, 1, 1]
    """
    position = np.asarray(list(index))
    phase = np.zeros(len(position), dtype=int)
    for shift in sorted(shifts):
        phase += np.array([p >= shift for p in position], dtype=int)
    return phase


def xmr(values: Sequence[float] | pd.Series, *, phase: Sequence[int] | None = None,
        baseline: int | None = None, reference: Sequence[bool] | None = None,
        floor: float | None = None) -> pd.DataFrame:
    """The XmR chart of a series: each value with its moving range and its phase's limits.

    Parameters
    ----------
    values : sequence of float or pandas.Series
        The individual values in time order (a Series keeps its index, e.g. the week).
        Missing values are left out.
    phase : sequence of int, optional
        Phase of each value (see :func:`phases_from_shifts`); limits are computed per
        phase and no moving range spans two phases. Default: one phase.
    baseline : int, optional
        Compute each phase's limits from its first ``baseline`` values only and extend them
        over the rest (the usual way to judge new weeks against a settled period). Default:
        every value of the phase.
    reference : sequence of bool, optional
        Compute each phase's limits from the values marked True only (e.g. the weeks before
        the reviewed cycle, so that the cycle is judged against its history); a phase with
        fewer than 2 marked values uses all its values.
    floor : float, optional
        The lowest value the measure can take: 0 for rates, counts and durations. A lower
        natural process limit below it is clipped to it (standard practice: X̄ − 2.66 mR̄ < 0
        for a rate means "no lower limit"); ``sigma`` and the run rules are unchanged.
        Default: no clipping (a measure that can be negative, such as NPS or a change).

    Returns
    -------
    pandas.DataFrame
        ``[value, phase, moving_range, centre, lnpl, unpl, sigma, mr_centre, url]`` with
        the series' index: the lower and upper natural process limits ``lnpl``/``unpl``
        (X̄ ∓ 2.66 mR̄, the lower one clipped at ``floor``), ``sigma`` (2.66 mR̄ / 3), the average
        moving range ``mr_centre``
        and the upper range limit ``url`` (3.268 mR̄). A phase with a single value has no
        limits (NaN).

    Raises
    ------
    InputError
        ``phase`` does not have one entry per value.

    Examples
    --------
    >>> chart = xmr([10, 12, 11, 14, 13])   # mR = 2, 1, 3, 1: mR̄ = 1.75, X̄ = 12
    >>> chart[["centre", "unpl", "lnpl", "url"]].iloc[0].round(3).tolist()
    [12.0, 16.655, 7.345, 5.719]

    A count of 1, 5, 1, 5, 1 (X̄ = 2.6, mR̄ = 4): its lower limit 2.6 − 10.64 is below 0.

    >>> xmr([1, 5, 1, 5, 1], floor=0)[["lnpl", "unpl"]].iloc[0].round(2).tolist()
    [0.0, 13.24]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=float)
    series = series.astype(float)
    phases = np.zeros(len(series), dtype=int) if phase is None else np.asarray(list(phase))
    if len(phases) != len(series):
        raise InputError(f"phase has {len(phases)} entries for {len(series)} values",
                         fix="give one phase number per value (phases_from_shifts makes them)")
    keep = series.notna().to_numpy()
    marked = np.ones(len(series), dtype=bool) if reference is None else np.asarray(list(reference), dtype=bool)
    if len(marked) != len(series):
        raise InputError(f"reference has {len(marked)} entries for {len(series)} values",
                         fix="give one True/False per value")
    out = pd.DataFrame({"value": series[keep], "phase": phases[keep]})
    marked = pd.Series(marked[keep], index=out.index)
    same = out["phase"].eq(out["phase"].shift())
    out["moving_range"] = out["value"].diff().abs().where(same)
    grouped = out.groupby("phase", sort=False)
    used = grouped.cumcount() < baseline if baseline is not None else pd.Series(True, index=out.index)
    enough = marked.groupby(out["phase"]).transform("sum") >= 2
    used = used & (marked | ~enough)
    out["centre"] = out["value"].where(used).groupby(out["phase"]).transform("mean")
    out["mr_centre"] = out["moving_range"].where(used).groupby(out["phase"]).transform("mean")
    out["unpl"] = out["centre"] + E2 * out["mr_centre"]
    out["lnpl"] = out["centre"] - E2 * out["mr_centre"]
    if floor is not None:
        out["lnpl"] = out["lnpl"].clip(lower=floor)  # NaN (a phase of one value) stays NaN
    out["sigma"] = E2 * out["mr_centre"] / 3
    out["url"] = D4 * out["mr_centre"]
    return out[["value", "phase", "moving_range", "centre", "lnpl", "unpl", "sigma", "mr_centre", "url"]]


def _k_of_m(side: np.ndarray, phase: np.ndarray, k: int, m: int) -> np.ndarray:
    """Points ending a window of ``m`` (one phase) in which ``k`` or more lie on one side."""
    hit = np.zeros(len(side), dtype=bool)
    for i in range(m - 1, len(side)):
        window = slice(i - m + 1, i + 1)
        if len(set(phase[window])) == 1 and side[i] != 0 and np.sum(side[window] == side[i]) >= k:
            hit[i] = True
    return hit


def run_rules(chart: pd.DataFrame) -> pd.DataFrame:
    """Which run rule each point of an XmR chart breaks.

    Parameters
    ----------
    chart : pandas.DataFrame
        As :func:`xmr` returns it.

    Returns
    -------
    pandas.DataFrame
        One boolean column per rule of :data:`RULES` (``"1"`` … ``"5"``, ``"mr"``), with the
        chart's index. A point is flagged when the pattern ends at it.

    Examples
    --------
    >>> values = [10, 11, 9, 10, 11, 9, 10, 30, 10, 11]
    >>> flags = run_rules(xmr(values))
    >>> flags.index[flags["1"]].tolist()   # the 30 is beyond the limits
    [7]
    """
    x = chart["value"].to_numpy(float)
    z = ((x - chart["centre"].to_numpy(float)) / chart["sigma"].to_numpy(float))
    phase = chart["phase"].to_numpy()
    with np.errstate(invalid="ignore"):
        sign = np.sign(np.nan_to_num(z, nan=0.0))
        beyond2 = np.where(np.abs(z) > 2, sign, 0)
        beyond1 = np.where(np.abs(z) > 1, sign, 0)
        rule1 = np.abs(z) > 3
    rule4 = np.zeros(len(x), dtype=bool)
    rule5 = np.zeros(len(x), dtype=bool)
    run_side, run_up = 0, 0
    for i in range(len(x)):
        new_phase = i == 0 or phase[i] != phase[i - 1]
        run_side = 1 if new_phase or sign[i] == 0 or sign[i] != sign[i - 1] else run_side + 1
        rule4[i] = sign[i] != 0 and run_side >= 8
        step = 0 if new_phase else np.sign(x[i] - x[i - 1])
        run_up = step if step == 0 or np.sign(run_up) != step else run_up + step
        rule5[i] = abs(run_up) >= 5  # 6 points, 5 steps the same way
    mr = chart["moving_range"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        rule_mr = mr > chart["url"].to_numpy(float)
    return pd.DataFrame(
        {"1": rule1, "2": _k_of_m(beyond2, phase, 2, 3), "3": _k_of_m(beyond1, phase, 4, 5),
         "4": rule4, "5": rule5, "mr": rule_mr},
        index=chart.index,
    )


def signals(chart: pd.DataFrame, flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """The signals of an XmR chart as a list a CX lead reads: consecutive points breaking the
    same rule are one signal, from its first to its last point.

    Parameters
    ----------
    chart : pandas.DataFrame
        As :func:`xmr` returns it (its index names the points, e.g. the week).
    flags : pandas.DataFrame, optional
        As :func:`run_rules` returns it; computed when left out.

    Returns
    -------
    pandas.DataFrame
        ``[rule, rule_text, first, last, points, direction]``, one row per signal, in time
        order; ``direction`` is ``"up"`` or ``"down"`` (from the centre line).

    Examples
    --------
    >>> chart = xmr([10, 11, 9, 10, 11, 9, 10, 30, 10, 11])
    >>> signals(chart)[["rule", "first", "direction"]].values.tolist()
    [['1', 7, 'up'], ['mr', 7, 'up']]
    """
    flags = run_rules(chart) if flags is None else flags
    rows = []
    above = (chart["value"] > chart["centre"]).to_numpy()
    for rule in RULES:
        hit = flags[rule].to_numpy()
        i = 0
        while i < len(hit):
            if not hit[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(hit) and hit[j + 1]:
                j += 1
            if rule == "mr":
                direction = "up" if chart["value"].iloc[i] > chart["value"].iloc[i - 1] else "down"
            else:
                direction = "up" if above[j] else "down"
            rows.append({"rule": rule, "rule_text": RULES[rule], "first": chart.index[i],
                         "last": chart.index[j], "points": j - i + 1, "direction": direction, "_at": i})
            i = j + 1
    out = pd.DataFrame(rows, columns=["rule", "rule_text", "first", "last", "points", "direction", "_at"])
    return out.sort_values(["_at", "rule"], kind="stable").drop(columns="_at").reset_index(drop=True)
