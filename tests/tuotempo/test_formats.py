"""The guide's formats (contract section 2), value by value, with the contract's literals."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from centers.models import Center
from core.errors import DomainError
from tuotempo.formats import (
    fmt_date,
    fmt_int,
    fmt_price,
    fmt_time,
    local,
    parse_date,
    parse_number,
    parse_time,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("30/11/2026", dt.date(2026, 11, 30)),
        ("1/2/2026", dt.date(2026, 2, 1)),
        ("2026-11-30", dt.date(2026, 11, 30)),
        ("01/01/1850", dt.date(1850, 1, 1)),
        ("31/12/2200", dt.date(2200, 12, 31)),
        ("1850-01-01", dt.date(1850, 1, 1)),
        ("2200-12-31", dt.date(2200, 12, 31)),
    ],
)
def test_a_date_is_read_as_dd_mm_yyyy_or_iso(value, day):
    assert parse_date("AVA_START_DAY", value) == day


@pytest.mark.parametrize(
    "value",
    ["31/02/2026", "31/12/1849", "01/01/2201", "1849-12-31", "2201-01-01", "2026/11/30", "30-11-2026",
     "30.11.2026", "2026-1-30", "30/11/26", "", " 30/11/2026", "30/11/2026 ", "2026-11-30T00:00", "x30/11/2026"],
)  # fmt: skip
def test_anything_else_is_an_input_error_naming_the_field_and_the_value(value):
    with pytest.raises(DomainError) as error:
        parse_date("AVA_START_DAY", value)
    assert error.value.code == "INVALID_INPUT"
    assert str(error.value) == (
        f"AVA_START_DAY={value!r} is not a date between 1850 and 2200: use dd/mm/yyyy or yyyy-mm-dd."
    )


@pytest.mark.parametrize(
    ("value", "clock"),
    [
        ("09:30", dt.time(9, 30)),
        ("9:05", dt.time(9, 5)),
        ("00:00", dt.time(0, 0)),
        ("23:59", dt.time(23, 59)),
        ("23:59:59", dt.time(23, 59, 59)),
        ("10:15:07", dt.time(10, 15, 7)),
        ("24:00", dt.time(23, 59, 59)),
        ("24:00:00", dt.time(23, 59, 59)),
    ],
)
def test_a_time_is_read_as_hh_mm_24h(value, clock):
    assert parse_time("AVA_START_TIME", value) == clock


@pytest.mark.parametrize(
    "value", ["24:01", "24:00:01", "25:00", "12:60", "12:30:60", "1230", "12:3", "", "12:30 ", "a12:30", "123:00"]
)
def test_a_time_outside_the_day_is_an_input_error(value):
    with pytest.raises(DomainError) as error:
        parse_time("AVA_START_TIME", value)
    assert error.value.code == "INVALID_INPUT"
    assert str(error.value) == f"AVA_START_TIME={value!r} is not a time: use hh:mm (24 h)."


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("30/11/2026 09:30", dt.datetime(2026, 11, 30, 9, 30)),
        ("30/11/2026 09:30:15", dt.datetime(2026, 11, 30, 9, 30, 15)),
        ("30/11/2026T09:30", dt.datetime(2026, 11, 30, 9, 30)),  # the ISO separator on a wall-clock stamp
        ("30/11/2026", dt.datetime(2026, 11, 30, 0, 0)),
        ("2026-11-30T09:30:00", dt.datetime(2026, 11, 30, 9, 30)),
        ("2026-11-30 09:30", dt.datetime(2026, 11, 30, 9, 30)),
        ("2026-11-30T09:30:00Z", dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)),
        ("2026-11-30T09:30:00+01:00", dt.datetime(2026, 11, 30, 8, 30, tzinfo=dt.UTC)),
        ("1850-01-01T00:00:00", dt.datetime(1850, 1, 1)),
        ("2200-12-31T23:59:59", dt.datetime(2200, 12, 31, 23, 59, 59)),
    ],
)
def test_a_timestamp_is_wall_clock_or_iso_8601(value, moment):
    parsed = parse_timestamp("LAST_REQUEST_TIMESTAMP", value)
    assert parsed == moment and (parsed.tzinfo is None) is (moment.tzinfo is None)


@pytest.mark.parametrize(
    "value",
    ["31/02/2026 09:30", "30/11/2026 25:00", "30/11/2026 x", "yesterday", "", "0001-01-01T00:00:00",
     "9999-12-31T23:59:59", "1849-12-31T23:59:59", "2201-01-01T00:00:00", "31/12/1849 10:00"],
)  # fmt: skip
def test_an_unreadable_timestamp_is_an_input_error(value):
    with pytest.raises(DomainError) as error:
        parse_timestamp("LAST_REQUEST_TIMESTAMP", value)
    assert error.value.code == "INVALID_INPUT"
    assert str(error.value) == (
        f"LAST_REQUEST_TIMESTAMP={value!r} is not a timestamp between 1850 and 2200: "
        "use dd/mm/yyyy hh:mm[:ss] or ISO 8601."
    )


@pytest.mark.parametrize(("value", "number"), [("1", 1), ("1000", 1000), ("0042", 42), (" 7", 7)])
def test_a_number_is_a_whole_number_within_its_bounds(value, number):
    assert parse_number("AVA_RESULTS_NUMBER", value, low=1, high=1000) == number


@pytest.mark.parametrize("value", ["0", "1001", "-1", "1.5", "ten", "", "1e3"])
def test_a_number_out_of_bounds_or_not_whole_is_an_input_error(value):
    with pytest.raises(DomainError) as error:
        parse_number("AVA_RESULTS_NUMBER", value, low=1, high=1000)
    assert error.value.code == "INVALID_INPUT"
    assert str(error.value) == f"AVA_RESULTS_NUMBER={value!r} is not a whole number between 1 and 1000."


def test_answers_are_written_in_the_guides_formats():
    assert fmt_date(dt.date(2026, 3, 5)) == "05/03/2026"
    assert fmt_date(None) is None
    assert fmt_time(dt.time(9, 5)) == "09:05"
    assert fmt_time(dt.datetime(2026, 3, 5, 17, 45, 59)) == "17:45"
    assert fmt_time(None) is None
    assert fmt_price(Decimal("50")) == "50.00"
    assert fmt_price(Decimal("25.5")) == "25.50"
    assert fmt_price(Decimal("0")) == "0.00"
    assert fmt_price(None) is None
    assert fmt_int(30) == "30"
    assert fmt_int(0) == "0"
    assert fmt_int(None) is None


def test_a_moment_is_written_in_the_centers_wall_clock():
    moment = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    madrid, canarias = Center(lid="MAD", time_zone="Europe/Madrid"), Center(lid="LPA", time_zone="Atlantic/Canary")
    assert local(moment, madrid) == dt.datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    assert (fmt_date(local(moment, madrid)), fmt_time(local(moment, madrid))) == ("01/07/2026", "10:00")
    assert fmt_time(local(moment, canarias)) == "09:00"


@pytest.mark.parametrize(
    ("parse", "value", "noted"),
    [
        (parse_date, "30/11/2026", []),
        (parse_date, "1/11/2026", ["SHORT_DATE"]),
        (parse_date, "30/1/2026", ["SHORT_DATE"]),
        (parse_date, "2026-11-30", ["ISO_DATE"]),
        (parse_time, "09:30", []),
        (parse_time, "9:30", ["SHORT_TIME"]),
        (parse_time, "09:30:15", ["TIME_SECONDS"]),
        (parse_time, "9:30:15", ["SHORT_TIME", "TIME_SECONDS"]),
        (parse_time, "24:00", ["MIDNIGHT"]),
        (parse_timestamp, "30/11/2026 09:30", []),
        (parse_timestamp, "1/11/2026 9:30:15", ["SHORT_DATE"]),  # the contract's own spelling but the day
        (parse_timestamp, "2026-11-30T09:30:00", []),
    ],
)
def test_a_spelling_beyond_the_guides_own_is_noted_when_asked(parse, value, noted):
    lenient: list[str] = []
    parse("FIELD", value, lenient=lenient)
    assert lenient == noted
    parse("FIELD", value)  # without a list, nothing to note and no error
