"""The business clock, checked by hand on the sample's calendar (Europe/Berlin,
Mon-Fri 08-18, Sat 09-13, holidays from review.yml)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cxassess.calendar import BusinessCalendar
from cxassess.config import load_config

from .conftest import SAMPLE

TZ = "Europe/Berlin"


def at(*stamps: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps), format="ISO8601").tz_localize(TZ))


@pytest.fixture(scope="module")
def sample_calendar() -> BusinessCalendar:
    return BusinessCalendar.from_config(load_config(SAMPLE))


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-07-06 09:00", "2026-07-06 10:30", 1.5),  # inside one working day
        ("2026-07-06 06:00", "2026-07-06 08:15", 0.25),  # starts before opening
        ("2026-07-06 17:00", "2026-07-07 09:00", 2.0),  # overnight: 1 h + 1 h
        ("2026-07-10 17:00", "2026-07-13 09:00", 6.0),  # Fri 1 h + Sat 09-13 + Mon 1 h
        ("2026-07-11 14:00", "2026-07-12 20:00", 0.0),  # Saturday after closing, Sunday
        # spring DST change (Sun 2026-03-29, closed): Fri 1 h + Sat 4 h + Mon 1 h
        ("2026-03-27 17:00", "2026-03-30 09:00", 6.0),
        # Easter: Good Friday 04-03 and Easter Monday 04-06 are holidays in review.yml;
        # Thu 0.5 h + Sat 4 h + Tue 0.5 h
        ("2026-04-02 17:30", "2026-04-07 08:30", 5.0),
        # German Unity Day Sat 2026-10-03 is a holiday: Fri 1 h + Mon 1 h only
        ("2026-10-02 17:00", "2026-10-05 09:00", 2.0),
    ],
)
def test_business_hours_by_hand(sample_calendar, start, end, hours):
    assert sample_calendar.business_hours(at(start), at(end)).iloc[0] == pytest.approx(hours, abs=1e-12)


def test_always_open_clock_counts_the_real_length_of_dst_days():
    always = BusinessCalendar(TZ, {d: (dt.time(0), None) for d in range(7)}, frozenset())
    # Sat noon to Sun noon: 23 h across the spring change, 25 h across the autumn change
    spring = always.business_hours(at("2026-03-28 12:00"), at("2026-03-29 12:00")).iloc[0]
    autumn = always.business_hours(at("2026-10-24 12:00"), at("2026-10-25 12:00")).iloc[0]
    assert spring == 23 and autumn == 25


def test_durations_keep_microseconds(sample_calendar):
    got = sample_calendar.business_seconds(at("2026-07-06 09:00:00.000001"), at("2026-07-06 09:00:00.000003"))
    assert got.iloc[0] == pytest.approx(2e-6, abs=1e-12)


def test_open_tickets_and_reversed_spans(sample_calendar):
    got = sample_calendar.business_hours(at("2026-07-06 09:00", "2026-07-06 11:00"),
                                         pd.Series([pd.NaT, at("2026-07-06 10:00").iloc[0]]))
    assert pd.isna(got.iloc[0]) and got.iloc[1] == pytest.approx(-1.0)


def test_timezone_of_the_input_does_not_matter(sample_calendar):
    start = at("2026-07-10 17:00").dt.tz_convert("UTC")
    end = at("2026-07-13 09:00").dt.tz_convert("America/New_York")
    assert sample_calendar.business_hours(start, end).iloc[0] == pytest.approx(6.0)
