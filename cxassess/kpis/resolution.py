"""Resolution KPIs from the ticket table: FCR, one-touch, reopen, transfer and
escalation rates, and the share still open (DESIGN.md §5).

A ticket counts as *resolved* when it has a ``resolved_at`` or has been resolved before
(``reopens > 0``). Rates over resolved tickets leave the open ones out: whether they will
be resolved at first contact is not known yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
from narwhals.typing import IntoDataFrameT

from cxassess.kpis._frame import frame, rate

__all__ = ["fcr", "one_touch", "transfer_rate", "reopen_rate", "escalation_rate", "open_share",
           "flag_escalated"]


def _resolved(columns: Sequence[str]) -> nw.Expr:
    """Resolved: a resolution time, or resolved before and reopened (when reopens are known)."""
    done = ~nw.col("resolved_at").is_null()
    return done | (nw.col("reopens").fill_null(0) > 0) if "reopens" in columns else done


def _columns(tickets: IntoDataFrameT) -> list[str]:
    return frame(tickets).collect_schema().names()


def fcr(
    tickets: IntoDataFrameT,
    *,
    by: str | Sequence[str] | None = None,
    max_contacts: int = 1,
) -> IntoDataFrameT:
    """First-contact resolution = resolved tickets with no reopen, no transfer and at most
    ``max_contacts`` customer contacts ÷ resolved tickets (DESIGN.md §5).

    The contact condition needs a ``contacts`` column (customer contacts per ticket);
    without it FCR rests on reopens and transfers alone, and the result's
    ``contacts_checked`` says so.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        The tickets, with ``resolved_at``, ``reopens``, ``transfers`` and optionally ``contacts``.
    by : str or sequence of str, optional
        Column(s) to group by (``channel``, ``team``...); ``None``: the whole table.
    max_contacts : int, default 1
        Most customer contacts a first-contact resolution may take (review.yml
        ``kpis: fcr_max_contacts``).

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Of the same kind as ``tickets``: ``[*by, kpi, value, ci_low, ci_high, n, hits]``, the
        share with its Wilson 95 % interval, ``n`` the resolved tickets and ``hits`` the tickets
        counted. ``contacts_checked`` says whether the
        contact condition was applied.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"reopens": [0, 1, 0, 0], "transfers": [0, 0, 1, 0],
    ...                   "resolved_at": pd.to_datetime(["2026-07-01"] * 3 + [None])})
    >>> fcr(t)[["value", "n", "hits", "contacts_checked"]].values.tolist()
    [[0.3333333333333333, 3, 1, False]]
    """
    columns = _columns(tickets)
    hit = (nw.col("reopens").fill_null(0) == 0) & (nw.col("transfers").fill_null(0) == 0)
    checked = "contacts" in columns
    if checked:
        hit = hit & (nw.col("contacts") <= max_contacts)
    out = nw.from_native(rate(tickets, hit, "fcr", by=by, where=_resolved(columns)), eager_only=True)
    return out.with_columns(nw.lit(checked).alias("contacts_checked")).to_native()


def one_touch(
    tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None
) -> IntoDataFrameT:
    """One-touch resolution = resolved tickets with at most 1 agent reply ÷ resolved tickets.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        The tickets, with ``resolved_at`` and ``agent_replies`` (``reopens`` when known).
    by : str or sequence of str, optional
        Column(s) to group by (``channel``, ``team``...); ``None``: the whole table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Of the same kind as ``tickets``: ``[*by, kpi, value, ci_low, ci_high, n, hits]``, the
        share with its Wilson 95 % interval, ``n`` the resolved tickets and ``hits`` the tickets
        counted.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"agent_replies": [1, 2, 0, 1], "reopens": 0,
    ...                   "resolved_at": pd.to_datetime(["2026-07-01"] * 3 + [None])})
    >>> one_touch(t)[["value", "n"]].iloc[0].tolist()
    [0.6666666666666666, 3.0]
    """
    return rate(tickets, nw.col("agent_replies") <= 1, "one_touch", by=by, where=_resolved(_columns(tickets)))


def transfer_rate(tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None) -> IntoDataFrameT:
    """Transfer rate = tickets with ≥ 1 transfer ÷ tickets.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        The tickets, with ``transfers``.
    by : str or sequence of str, optional
        Column(s) to group by (``channel``, ``team``...); ``None``: the whole table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Of the same kind as ``tickets``: ``[*by, kpi, value, ci_low, ci_high, n, hits]``, the
        share with its Wilson 95 % interval, ``n`` the tickets and ``hits`` the tickets
        counted.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"transfers": [0, 1, 2, 0], "team": ["a", "a", "b", "b"]})
    >>> transfer_rate(t, by="team")[["team", "value", "n"]].values.tolist()
    [['a', 0.5, 2], ['b', 0.5, 2]]
    """
    return rate(tickets, nw.col("transfers") > 0, "transfer_rate", by=by)


def reopen_rate(tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None) -> IntoDataFrameT:
    """Reopen rate = resolved tickets with reopens > 0 ÷ resolved tickets.

    A ticket counts as resolved when it has a ``resolved_at`` or has ever been resolved
    (``reopens > 0``: a reopened ticket was resolved before).

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        The tickets, with ``resolved_at`` and ``reopens``.
    by : str or sequence of str, optional
        Column(s) to group by (``channel``, ``team``...); ``None``: the whole table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Of the same kind as ``tickets``: ``[*by, kpi, value, ci_low, ci_high, n, hits]``, the
        share with its Wilson 95 % interval, ``n`` the resolved tickets and ``hits`` the tickets
        counted.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"reopens": [0, 1, 0], "resolved_at": pd.to_datetime(["2026-07-01", "2026-07-02", None])})
    >>> reopen_rate(t)[["value", "n"]].iloc[0].tolist()
    [0.5, 2.0]
    """
    return rate(tickets, nw.col("reopens") > 0, "reopen_rate", by=by, where=_resolved(_columns(tickets)))


def open_share(tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None) -> IntoDataFrameT:
    """Share of tickets not resolved at the export (the cycle's end): ``resolved_at`` missing.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        The tickets, with ``resolved_at``.
    by : str or sequence of str, optional
        Column(s) to group by (``channel``, ``team``...); ``None``: the whole table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Of the same kind as ``tickets``: ``[*by, kpi, value, ci_low, ci_high, n, hits]``, the
        share with its Wilson 95 % interval, ``n`` the tickets and ``hits`` the tickets
        counted.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"resolved_at": pd.to_datetime(["2026-07-01", None, None, "2026-07-03"])})
    >>> open_share(t)["value"].iloc[0]
    np.float64(0.5)
    """
    return rate(tickets, nw.col("resolved_at").is_null(), "open_share", by=by)


def flag_escalated(
    tickets: IntoDataFrameT, events: IntoDataFrameT, specialist_stages: Sequence[str]
) -> IntoDataFrameT:
    """Add ``escalated``: the ticket has an event in a specialist stage (review.yml
    ``process: stages: ... specialist: true``).

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame or a lazy frame
        The tickets, with ``ticket_id``.
    events : pandas.DataFrame or polars.DataFrame or a lazy frame
        The event log, with ``ticket_id`` and ``stage``, of the same kind as ``tickets``.
    specialist_stages : sequence of str
        The stages that count as an escalation.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame or a lazy frame
        ``tickets`` with a bool column ``escalated``, rows in their order (a lazy frame:
        still lazy, rows in no particular order).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"ticket_id": ["A", "B"]})
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "stage": ["intake", "specialist", "intake"]})
    >>> flag_escalated(t, ev, ["specialist"])["escalated"].tolist()
    [True, False]
    """
    df, ev = frame(tickets), frame(events)
    reached = (
        ev.select("ticket_id", "stage").filter(nw.col("stage").is_in(list(specialist_stages)))
        .select("ticket_id").unique().with_columns(nw.lit(True).alias("escalated"))
    )
    if isinstance(df, nw.LazyFrame):  # in the engine: a join, rows in no particular order
        return df.join(reached, on="ticket_id", how="left").with_columns(
            nw.col("escalated").fill_null(False)).to_native()
    # joined on the id column alone (a left join keeps the tickets' order), then attached:
    # the other ticket columns are never copied
    flag = df.select("ticket_id").join(reached, on="ticket_id", how="left")["escalated"].fill_null(False)
    return df.with_columns(flag.alias("escalated")).to_native()


def escalation_rate(
    tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None
) -> IntoDataFrameT:
    """Escalation rate = tickets that reach a specialist stage ÷ tickets.

    Needs the ``escalated`` flag of :func:`flag_escalated` (from the event log).

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        The tickets, with ``escalated`` (:func:`flag_escalated`).
    by : str or sequence of str, optional
        Column(s) to group by (``channel``, ``team``...); ``None``: the whole table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Of the same kind as ``tickets``: ``[*by, kpi, value, ci_low, ci_high, n, hits]``, the
        share with its Wilson 95 % interval, ``n`` the tickets and ``hits`` the tickets
        counted.

    Examples
    --------
    >>> import pandas as pd
    >>> escalation_rate(pd.DataFrame({"escalated": [True, False, False, False]}))["value"].iloc[0]
    np.float64(0.25)
    """
    return rate(tickets, nw.col("escalated"), "escalation_rate", by=by)
