"""The availability id's edges (contract section 5: opaque to the client, stable, any malformed one an
input error), found untested by mutation testing (docs/testing.md)."""

import datetime as dt

import pytest

from appointments.slots import SlotKey, parse_slot_lid
from core.errors import DomainError


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("18500101T0000Z-1-1", SlotKey(1, 1, dt.datetime(1850, 1, 1, tzinfo=dt.UTC))),
        ("22001231T2359Z-1-1", SlotKey(1, 1, dt.datetime(2200, 12, 31, 23, 59, tzinfo=dt.UTC))),
        # 50 characters, the longest accepted: 15 for the stamp, "Z-", 16 digits, "-", 16 digits.
        ("20271214T083015Z-1234567890123456-1234567890123456",
         SlotKey(1234567890123456, 1234567890123456, dt.datetime(2027, 12, 14, 8, 30, 15, tzinfo=dt.UTC))),
        ("  20271214T0830Z-12-3 ", SlotKey(12, 3, dt.datetime(2027, 12, 14, 8, 30, tzinfo=dt.UTC))),
    ],
)  # fmt: skip
def test_an_availability_id_names_its_doctor_activity_and_utc_start(value, key):
    assert parse_slot_lid(value) == key


@pytest.mark.parametrize(
    "value",
    ["18491231T2359Z-1-1", "22010101T0000Z-1-1", "20271214T083015Z-1234567890123456-12345678901234567", "", None,
     "20271314T0830Z-1-1"],
)  # fmt: skip
def test_any_other_value_is_an_input_error_naming_it(value):
    with pytest.raises(DomainError) as error:
        parse_slot_lid(value)
    assert error.value.code == "INVALID_INPUT"
    assert error.value.message == (
        f"Availability id {value!r} is not one this hospital gave out; search the availabilities again and use "
        "an availability id from the answer."
    )
