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


# --- the repeated autumn hour: one rule for the loader and the calendar ------------------
# A local time the autumn change repeats is its first occurrence (summer time); a time the
# spring change skips moves forward to the first valid instant (cxassess.calendar.localize).


@pytest.mark.parametrize(
    ("zone", "repeated", "first"),
    [
        ("Europe/Berlin", "2026-10-25 02:30", "2026-10-25 00:30"),  # 02:30+02:00, not +01:00
        ("America/New_York", "2026-11-01 01:30", "2026-11-01 05:30"),  # EDT -04:00, not EST
        ("Australia/Sydney", "2026-04-05 02:30", "2026-04-04 15:30"),  # AEDT +11:00, not +10:00
        ("Europe/Dublin", "2026-10-25 01:30", "2026-10-25 00:30"),  # IST +01:00 (tzdata's negative DST)
    ],
)
def test_a_repeated_local_time_is_its_first_occurrence_in_the_loader_and_the_calendar(tmp_path, zone, repeated, first):
    from cxassess.calendar import localize
    from cxassess.io import read_table

    instant = pd.Timestamp(first, tz="UTC")  # written out by hand from the zone's offsets
    assert localize(pd.Series(pd.to_datetime([repeated])), zone).iloc[0] == instant
    # the loader reads the naive time of an export the same way
    path = tmp_path / "tickets.csv"
    path.write_text(f"ticket_id,created_at\nT1,{repeated}\n", encoding="utf-8")
    assert read_table(path, "tickets", tz=zone)["created_at"].iloc[0] == instant
    # a desk opening at that local time opens at that instant: a ticket created then (as
    # the loader reads it) waits from the opening, not one hour before it
    opening = pd.Timestamp(repeated).time()
    day = pd.Timestamp(repeated).weekday()
    desk = BusinessCalendar(zone, {day: (opening, None)}, frozenset())
    assert desk.is_open(pd.Series([instant, instant - pd.Timedelta(minutes=30)])).tolist() == [True, False]
    midnight = pd.Series([pd.Timestamp(repeated).normalize() + pd.Timedelta(days=1)]).dt.tz_localize(zone)
    hours = (midnight.iloc[0] - instant) / pd.Timedelta(hours=1)
    assert desk.business_hours(pd.Series([instant]), midnight).iloc[0] == pytest.approx(hours, abs=1e-12)


def test_a_skipped_local_time_moves_forward_to_the_first_valid_instant():
    from cxassess.calendar import localize

    got = localize(pd.Series(pd.to_datetime(["2026-03-29 02:30"])), TZ).iloc[0]
    assert got == pd.Timestamp("2026-03-29 01:00", tz="UTC")  # 03:00+02:00
