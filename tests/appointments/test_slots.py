"""The slot engine: which free intervals the hospital offers for booking, and their AVAILABILITY_LID.

Every date is in 2027 and `now` is passed explicitly, so the answers do not depend on today.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment, AppointmentStatus, Weekday
from appointments.slots import (
    MSG_BAD_LIMIT,
    MSG_BAD_SLOT_LID,
    MSG_BAND_INVERTED,
    MSG_WINDOW_INVERTED,
    MSG_WINDOW_TOO_LONG,
    SlotKey,
    find_slot,
    find_slots,
    parse_slot_lid,
)
from core.errors import INVALID_INPUT, DomainError
from demo.factories import (
    AbsenceFactory,
    ActivityFactory,
    AppointmentFactory,
    AvailabilityRuleFactory,
    CenterFactory,
    InsuranceActivityFactory,
    InsuranceFactory,
    InsuranceResourceFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from tests.messages import said

MADRID = ZoneInfo("Europe/Madrid")
CANARY = ZoneInfo("Atlantic/Canary")
MONDAY = dt.date(2027, 3, 1)  # CET, UTC+1; Canary on UTC+0
NEXT_MONDAY = dt.date(2027, 3, 8)
NOW = dt.datetime(2027, 2, 1, 8, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def at(day: dt.date, hh_mm: str, zone: ZoneInfo = MADRID) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hh_mm), zone)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def make_activity(**kwargs):
    return ActivityFactory(**{"duration": 30, "price": Decimal("50.00"), **kwargs})


def make_doctor(activity, *, rules=(("09:00", "11:00"),), weekday=Weekday.MONDAY, ra_duration=None, ra_price=None,
                **resource_kwargs):  # fmt: skip
    """A resource offering the activity with one rule per (start, end), on `weekday`."""
    resource = ResourceFactory(**resource_kwargs)
    ResourceActivityFactory(resource=resource, activity=activity, duration=ra_duration, price=ra_price)
    for start, end in rules:
        AvailabilityRuleFactory(
            resource=resource, weekday=weekday, start_time=dt.time.fromisoformat(start),
            end_time=dt.time.fromisoformat(end),
        )  # fmt: skip
    return resource


def search(activity, **kwargs):
    kwargs = {"start_day": MONDAY, "end_day": MONDAY, "now": NOW, **kwargs}
    return find_slots(activity=activity, **kwargs)


def local_times(slots) -> list[str]:
    """'01/03 09:00' per slot, in the slot's own center time zone."""
    return [f"{slot.start:%d/%m %H:%M}" for slot in slots]


def test_it_offers_every_step_of_a_weekly_rule_with_its_details():
    activity = make_activity()
    doctor = make_doctor(activity)

    slots = search(activity)

    assert local_times(slots) == ["01/03 09:00", "01/03 09:30", "01/03 10:00", "01/03 10:30"]
    first = slots[0]
    assert first.start == utc("2027-03-01T08:00") and first.start.tzinfo == MADRID
    assert first.end == at(MONDAY, "09:30")
    assert (first.resource, first.activity, first.insurance) == (doctor, activity, None)
    assert first.location == doctor.location and first.resource.location.center.time_zone == "Europe/Madrid"
    assert first.price == Decimal("50.00")
    assert first.lid == f"20270301T0800Z-{doctor.pk}-{activity.pk}"
    assert Appointment.objects.count() == 0  # a search books nothing


def test_it_offers_nothing_on_other_weekdays():
    activity = make_activity()
    make_doctor(activity, weekday=Weekday.SUNDAY)

    assert search(activity) == []
    # 07/03/2027 is a Sunday: the guide's weekday 0.
    assert local_times(search(activity, start_day=dt.date(2027, 3, 2), end_day=dt.date(2027, 3, 7)))[:1] == [
        "07/03 09:00"
    ]


def test_it_honours_rule_validity_dates_inclusively():
    activity = make_activity()
    doctor = make_doctor(activity, rules=())
    AvailabilityRuleFactory(
        resource=doctor, weekday=Weekday.MONDAY, start_time=dt.time(9), end_time=dt.time(10),
        valid_from=NEXT_MONDAY, valid_to=NEXT_MONDAY,
    )  # fmt: skip

    slots = search(activity, end_day=dt.date(2027, 3, 15))

    assert local_times(slots) == ["08/03 09:00", "08/03 09:30"]


def test_a_rule_valid_on_some_days_of_the_window_leaves_the_others_rules_alone():
    """One rule valid only on 08/03, another always: each day offers what is valid that day."""
    activity = make_activity()
    doctor = make_doctor(activity, rules=(("11:00", "12:00"),))
    AvailabilityRuleFactory(
        resource=doctor, weekday=Weekday.MONDAY, start_time=dt.time(9), end_time=dt.time(10),
        valid_from=NEXT_MONDAY, valid_to=NEXT_MONDAY,
    )  # fmt: skip

    slots = search(activity, end_day=dt.date(2027, 3, 15))

    assert local_times(slots) == [
        "01/03 11:00", "01/03 11:30",
        "08/03 09:00", "08/03 09:30", "08/03 11:00", "08/03 11:30",
        "15/03 11:00", "15/03 11:30",
    ]  # fmt: skip


def test_a_window_starting_on_a_rules_last_day_or_ending_on_its_first_day_has_that_day():
    activity = make_activity()
    doctor = make_doctor(activity, rules=())
    AvailabilityRuleFactory(
        resource=doctor, weekday=Weekday.MONDAY, start_time=dt.time(9), end_time=dt.time(10),
        valid_from=MONDAY, valid_to=dt.date(2027, 3, 15),
    )  # fmt: skip

    every = ["01/03 09:00", "01/03 09:30", "08/03 09:00", "08/03 09:30", "15/03 09:00", "15/03 09:30"]
    assert local_times(search(activity, end_day=dt.date(2027, 3, 21))) == every
    assert local_times(search(activity, start_day=dt.date(2027, 3, 15), end_day=dt.date(2027, 3, 21))) == every[4:]
    assert local_times(search(activity, start_day=dt.date(2027, 2, 22), end_day=MONDAY)) == every[:2]


def test_overlapping_rules_offer_each_time_once():
    activity = make_activity()
    make_doctor(activity, rules=(("09:00", "10:00"), ("09:00", "10:30")))

    assert local_times(search(activity)) == ["01/03 09:00", "01/03 09:30", "01/03 10:00"]


def test_many_candidates_checked_in_parts_keep_what_the_first_part_found():
    """Over SPLIT_OVER x limit candidates the earliest are checked first; when they give fewer than the
    limit, the later ones add to them."""
    activity = make_activity(duration=15)
    doctor = make_doctor(activity, rules=(("08:00", "14:00"),))  # 24 candidates
    AppointmentFactory(resource=doctor, activity=activity, start=at(MONDAY, "08:00"), end=at(MONDAY, "09:30"))
    AppointmentFactory(resource=doctor, activity=activity, start=at(MONDAY, "09:45"), end=at(MONDAY, "10:15"))

    assert local_times(search(activity, limit=2)) == ["01/03 09:30", "01/03 10:15"]


def test_it_ignores_an_expired_rule():
    activity = make_activity()
    doctor = make_doctor(activity, rules=())
    AvailabilityRuleFactory(resource=doctor, valid_to=dt.date(2027, 2, 28))

    assert search(activity, end_day=dt.date(2027, 3, 31)) == []


def test_it_offers_restricted_rules_only_for_their_activities():
    activity, other = make_activity(), make_activity()
    doctor = make_doctor(activity, rules=(("15:00", "16:00"),))  # unrestricted
    ResourceActivityFactory(resource=doctor, activity=other)
    AvailabilityRuleFactory(resource=doctor, start_time=dt.time(9), end_time=dt.time(10), activities=[other])
    AvailabilityRuleFactory(resource=doctor, start_time=dt.time(11), end_time=dt.time(12), activities=[activity, other])

    assert local_times(search(activity)) == ["01/03 11:00", "01/03 11:30", "01/03 15:00", "01/03 15:30"]
    assert local_times(search(other)) == [
        "01/03 09:00",
        "01/03 09:30",
        "01/03 11:00",
        "01/03 11:30",
        "01/03 15:00",
        "01/03 15:30",
    ]


def test_it_steps_by_the_resource_step_and_lasts_the_duration():
    activity = make_activity()
    make_doctor(activity, rules=(("09:00", "10:00"),), availabilities_step=20)

    slots = search(activity)

    assert local_times(slots) == ["01/03 09:00", "01/03 09:20"]  # 09:40 would end at 10:10
    assert [s.start for s in slots] == [at(MONDAY, "09:00"), at(MONDAY, "09:20")]  # to the second
    assert [f"{s.end:%H:%M}" for s in slots] == ["09:30", "09:50"]


def test_it_uses_the_resource_activity_duration_and_price():
    activity = make_activity()
    make_doctor(activity, ra_duration=45, ra_price=Decimal("40.00"))

    slots = search(activity)

    assert local_times(slots) == ["01/03 09:00", "01/03 09:45"]  # 10:30 would end at 11:15
    assert [f"{s.end:%H:%M}" for s in slots] == ["09:45", "10:30"]
    assert {s.price for s in slots} == {Decimal("40.00")}


def test_it_keeps_slots_inside_the_min_max_band():
    activity = make_activity()
    make_doctor(activity)

    slots = search(activity, min_time=dt.time(9, 15), max_time=dt.time(10, 30))

    assert local_times(slots) == ["01/03 09:30", "01/03 10:00"]


def test_the_window_starts_at_start_time_and_slots_must_end_by_end_time():
    activity = make_activity()
    make_doctor(activity)

    two_weeks = search(activity, start_time=dt.time(10), end_day=NEXT_MONDAY, end_time=dt.time(10))
    one_day = search(activity, end_time=dt.time(9, 45))

    assert local_times(two_weeks) == ["01/03 10:00", "01/03 10:30", "08/03 09:00", "08/03 09:30"]
    assert local_times(one_day) == ["01/03 09:00"]  # 09:30 starts in the window but ends at 10:00


def test_it_returns_at_most_limit_slots_the_earliest_first():
    activity = make_activity()
    make_doctor(activity)

    assert local_times(search(activity, end_day=NEXT_MONDAY, limit=3)) == ["01/03 09:00", "01/03 09:30", "01/03 10:00"]


def test_it_never_offers_a_slot_that_starts_before_now():
    activity = make_activity()
    make_doctor(activity)

    assert local_times(search(activity, now=at(MONDAY, "09:40"))) == ["01/03 10:00", "01/03 10:30"]
    assert local_times(search(activity, now=at(MONDAY, "10:00"))) == ["01/03 10:00", "01/03 10:30"]
    assert search(activity, now=at(MONDAY, "10:31")) == []


def test_cancelled_appointments_free_their_slot_and_active_ones_block_it():
    activity = make_activity()
    doctor = make_doctor(activity)
    AppointmentFactory(
        resource=doctor, activity=activity, start=at(MONDAY, "09:00"), end=at(MONDAY, "09:30"),
        status=AppointmentStatus.CANCELLED_BY_USER,
    )  # fmt: skip
    AppointmentFactory(resource=doctor, activity=activity, start=at(MONDAY, "09:45"), end=at(MONDAY, "10:15"))
    AppointmentFactory(
        resource=doctor, activity=activity, start=at(MONDAY, "10:30"), end=at(MONDAY, "11:00"),
        status=AppointmentStatus.PENDING,
    )  # fmt: skip
    AppointmentFactory(activity=activity, start=at(MONDAY, "09:00"), end=at(MONDAY, "11:00"))  # another doctor

    assert local_times(search(activity)) == ["01/03 09:00"]


def test_absences_of_the_resource_block_overlapping_slots_only():
    activity = make_activity()
    doctor = make_doctor(activity)
    AbsenceFactory(resource=doctor, start=at(MONDAY, "08:00"), end=at(MONDAY, "09:00"))  # touches 09:00
    AbsenceFactory(resource=doctor, start=at(MONDAY, "09:35"), end=at(MONDAY, "10:05"))

    assert local_times(search(activity)) == ["01/03 09:00", "01/03 10:30"]


def test_an_absence_of_the_whole_center_blocks_its_resources_only():
    activity = make_activity()
    closed = CenterFactory(lid="C-CLOSED")
    make_doctor(activity, lid="D-CLOSED", location=LocationFactory(center=closed))
    make_doctor(activity, lid="D-OPEN")
    AbsenceFactory(resource=None, center=closed, start=at(MONDAY, "00:00"), end=at(NEXT_MONDAY, "00:00"))

    slots = search(activity)

    assert {s.resource.lid for s in slots} == {"D-OPEN"}
    assert len(slots) == 4


def test_insurance_slots_need_a_web_enabled_insurance_related_to_resource_and_activity():
    activity = make_activity()
    accepting = make_doctor(activity, lid="D-ACCEPTS", ra_price=Decimal("40.00"))
    make_doctor(activity, lid="D-PRIVATE")
    insurance = InsuranceFactory()
    InsuranceResourceFactory(insurance=insurance, resource=accepting)
    InsuranceActivityFactory(insurance=insurance, activity=activity, price=Decimal("30.00"))
    unpriced = InsuranceFactory()
    InsuranceResourceFactory(insurance=unpriced, resource=accepting)
    InsuranceActivityFactory(insurance=unpriced, activity=activity, price=None)
    other_activity = InsuranceFactory()
    InsuranceResourceFactory(insurance=other_activity, resource=accepting)
    InsuranceActivityFactory(insurance=other_activity, activity=make_activity())
    offline = InsuranceFactory(web_enabled=False)
    InsuranceResourceFactory(insurance=offline, resource=accepting)
    InsuranceActivityFactory(insurance=offline, activity=activity)

    insured = search(activity, insurance=insurance)

    assert {(s.resource.lid, s.insurance, s.price) for s in insured} == {("D-ACCEPTS", insurance, Decimal("30.00"))}
    assert len(insured) == 4
    assert {s.price for s in search(activity, insurance=unpriced)} == {Decimal("40.00")}  # resource price
    assert search(activity, insurance=other_activity) == []
    assert search(activity, insurance=offline) == []
    assert search(activity, insurance=InsuranceFactory()) == []  # related to nothing
    assert {(s.resource.lid, s.price) for s in search(activity)} == {
        ("D-ACCEPTS", Decimal("40.00")),
        ("D-PRIVATE", Decimal("50.00")),
    }


def test_nothing_is_offered_by_what_is_not_web_enabled():
    activity = make_activity()
    make_doctor(activity, web_enabled=False)
    assert search(activity) == []

    offline_center = CenterFactory(lid="C-OFF", web_enabled=False)
    make_doctor(activity, location=LocationFactory(center=offline_center))
    assert search(activity) == []

    hidden = make_activity(web_enabled=False)
    make_doctor(hidden)
    assert search(hidden) == []


def test_a_resource_offers_only_its_own_activities():
    activity = make_activity()
    make_doctor(make_activity())  # has a rule but does not offer `activity`

    assert search(activity) == []


def test_each_center_is_read_in_its_own_time_zone():
    activity = make_activity()
    canary = CenterFactory(lid="C-CANARY", time_zone="Atlantic/Canary")
    madrid = CenterFactory(lid="C-MADRID", time_zone="Europe/Madrid")
    canary_location = LocationFactory(center=canary)
    make_doctor(activity, lid="D-CANARY", rules=(("09:00", "10:00"),), location=canary_location)
    make_doctor(activity, lid="D-MADRID", rules=(("09:00", "10:00"),), location=LocationFactory(center=madrid))

    slots = search(activity)

    # Answered in date and time order, each of its own center, then RESOURCE_LID.
    assert [(s.resource.lid, f"{s.start:%H:%M}", s.start.astimezone(dt.UTC).strftime("%H:%M")) for s in slots] == [
        ("D-CANARY", "09:00", "09:00"),
        ("D-MADRID", "09:00", "08:00"),
        ("D-CANARY", "09:30", "09:30"),
        ("D-MADRID", "09:30", "08:30"),
    ]
    assert slots[0].start.tzinfo == CANARY
    # The window's times are wall-clock in each zone too.
    assert [s.resource.lid for s in search(activity, start_time=dt.time(9, 30))] == ["D-CANARY", "D-MADRID"]
    assert {s.resource.lid for s in search(activity, centers=[canary])} == {"D-CANARY"}
    assert {s.resource.lid for s in search(activity, location=canary_location)} == {"D-CANARY"}
    assert search(activity, centers=[]) == []


def test_a_later_day_further_east_can_come_first():
    activity = make_activity(duration=15)
    canary = LocationFactory(center=CenterFactory(lid="C-CANARY", time_zone="Atlantic/Canary"))
    make_doctor(activity, lid="D-CANARY", rules=(("23:30", "23:59"),), location=canary)
    make_doctor(activity, lid="D-MADRID", rules=(("00:00", "01:00"),), weekday=Weekday.TUESDAY)

    slots = search(activity, end_day=dt.date(2027, 3, 2), limit=2)

    # Madrid's Tuesday 00:00 is Monday 23:00 UTC, before Canary's Monday 23:30 (UTC too).
    assert [(s.resource.lid, s.start) for s in slots] == [
        ("D-MADRID", utc("2027-03-01T23:00")),
        ("D-MADRID", utc("2027-03-01T23:15")),
    ]


def test_slots_at_one_time_are_ordered_by_resource_lid():
    activity = make_activity()
    make_doctor(activity, lid="B-DOC", rules=(("09:00", "10:00"),))
    make_doctor(activity, lid="A-DOC", rules=(("09:00", "10:00"),))

    slots = search(activity)

    assert [(f"{s.start:%H:%M}", s.resource.lid) for s in slots] == [
        ("09:00", "A-DOC"),
        ("09:00", "B-DOC"),
        ("09:30", "A-DOC"),
        ("09:30", "B-DOC"),
    ]


def test_rules_stay_wall_clock_across_the_spring_change():
    activity = make_activity(duration=60)
    doctor = make_doctor(activity, rules=(("09:00", "10:00"),))
    # Sunday 28/03/2027: in Madrid 02:00 becomes 03:00.
    AvailabilityRuleFactory(resource=doctor, weekday=Weekday.SUNDAY, start_time=dt.time(1), end_time=dt.time(4))

    slots = search(activity, start_day=dt.date(2027, 3, 22), end_day=dt.date(2027, 3, 29))

    assert [(f"{s.start:%d/%m %H:%M}", f"{s.end:%H:%M}", s.start) for s in slots] == [
        ("22/03 09:00", "10:00", utc("2027-03-22T08:00")),
        ("28/03 01:00", "03:00", utc("2027-03-28T00:00")),  # 02:00 does not exist that night
        ("28/03 03:00", "04:00", utc("2027-03-28T01:00")),
        ("29/03 09:00", "10:00", utc("2027-03-29T07:00")),
    ]


def test_rules_stay_wall_clock_across_the_autumn_change():
    activity = make_activity(duration=60)
    doctor = make_doctor(activity, rules=(("09:00", "10:00"),))
    # Sunday 31/10/2027: in Madrid 03:00 goes back to 02:00; the repeated 02:00 is offered once.
    AvailabilityRuleFactory(resource=doctor, weekday=Weekday.SUNDAY, start_time=dt.time(1), end_time=dt.time(4))

    slots = search(activity, start_day=dt.date(2027, 10, 25), end_day=dt.date(2027, 11, 1))

    assert [(f"{s.start:%d/%m %H:%M}", s.start.astimezone(dt.UTC)) for s in slots] == [
        ("25/10 09:00", utc("2027-10-25T07:00")),
        ("31/10 01:00", utc("2027-10-30T23:00")),
        ("31/10 02:00", utc("2027-10-31T00:00")),
        ("31/10 03:00", utc("2027-10-31T02:00")),
        ("01/11 09:00", utc("2027-11-01T08:00")),
    ]
    assert find_slot(resource=doctor, activity=activity, start=utc("2027-10-31T00:00"), now=NOW) == slots[2]
    assert find_slot(resource=doctor, activity=activity, start=utc("2027-10-31T01:00"), now=NOW) is None  # 2nd 02:00


def test_find_slot_confirms_a_free_offered_slot():
    activity = make_activity()
    doctor = make_doctor(activity)
    listed = search(activity)[1]

    slot = find_slot(resource=doctor, activity=activity, start=utc("2027-03-01T08:30"), now=NOW)

    assert slot == listed
    assert slot.lid == listed.lid == f"20270301T0830Z-{doctor.pk}-{activity.pk}"
    assert find_slot(resource=doctor, activity=activity, start=at(MONDAY, "10:30"), now=NOW) is not None


def test_find_slot_refuses_what_is_taken_absent_or_not_offered():
    activity = make_activity()
    doctor = make_doctor(activity)
    AppointmentFactory(resource=doctor, activity=activity, start=at(MONDAY, "09:00"), end=at(MONDAY, "09:30"))
    AbsenceFactory(resource=doctor, start=at(MONDAY, "10:00"), end=at(MONDAY, "10:30"))

    def bookable(start, **kwargs):
        return find_slot(resource=doctor, activity=activity, start=start, **{"now": NOW, **kwargs}) is not None

    assert bookable(at(MONDAY, "09:30"))
    assert not bookable(at(MONDAY, "09:00"))  # taken
    assert not bookable(at(MONDAY, "10:00"))  # absence
    assert not bookable(at(MONDAY, "09:45"))  # not on a step
    assert not bookable(at(MONDAY, "11:00"))  # after the rule
    assert not bookable(at(dt.date(2027, 3, 2), "09:30"))  # a Tuesday
    assert not bookable(at(MONDAY, "09:30"), now=at(MONDAY, "09:31"))  # started
    assert not bookable(at(MONDAY, "09:30"), insurance=InsuranceFactory())


def test_a_slot_lid_round_trips_to_its_slot():
    activity = make_activity()
    doctor = make_doctor(activity)
    slot = search(activity)[3]

    key = parse_slot_lid(slot.lid)

    assert key == SlotKey(doctor.pk, activity.pk, utc("2027-03-01T09:30"))
    assert find_slot(resource=doctor, activity=activity, start=key.start, now=NOW) == slot
    assert parse_slot_lid("20271214T0830Z-12-3") == SlotKey(12, 3, utc("2027-12-14T08:30"))
    assert parse_slot_lid("20271214T083015Z-12-3").start == utc("2027-12-14T08:30:15")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "slot-1",
        "20271314T0830Z-1-2",  # month 13
        "20271214T0830-1-2",  # no Z
        "20271214T0830Z-0-2",
        "20271214T0830Z-1",
        "20271214T0830Z-1-2-3",
        "20271214T0830Z-1-" + "9" * 40,
    ],
)
def test_a_malformed_slot_lid_is_an_input_error(value):
    with pytest.raises(DomainError) as error:
        parse_slot_lid(value)

    assert error.value.code == INVALID_INPUT
    assert error.value.message == said(MSG_BAD_SLOT_LID, value=value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, MSG_BAD_LIMIT),
        ({"start_day": NEXT_MONDAY}, MSG_WINDOW_INVERTED),
        ({"start_time": dt.time(10), "end_time": dt.time(9)}, MSG_WINDOW_INVERTED),
        ({"start_time": dt.time(10), "end_time": dt.time(10)}, MSG_WINDOW_INVERTED),  # empty
        ({"min_time": dt.time(12), "max_time": dt.time(9)}, MSG_BAND_INVERTED),
        ({"min_time": dt.time(9), "max_time": dt.time(9)}, MSG_BAND_INVERTED),  # empty
    ],
)
def test_an_inconsistent_search_is_an_input_error(kwargs, message):
    activity = make_activity()

    with pytest.raises(DomainError) as error:
        search(activity, **kwargs)

    assert (error.value.code, error.value.message) == (INVALID_INPUT, said(message))


def test_a_window_of_366_days_is_searched_and_a_longer_one_refused_with_its_length():
    activity = make_activity()
    make_doctor(activity)

    assert local_times(search(activity, end_day=MONDAY + dt.timedelta(days=366), limit=1)) == ["01/03 09:00"]
    with pytest.raises(DomainError) as error:
        search(activity, end_day=MONDAY + dt.timedelta(days=367))
    assert (error.value.code, error.value.message) == (
        INVALID_INPUT,
        "The search window spans 367 days: search at most 366 days at a time.",
    )
    assert said(MSG_WINDOW_TOO_LONG, days=367, limit=366) == error.value.message


def test_without_a_limit_given_a_search_answers_the_earliest_100():
    activity = make_activity(duration=10)
    make_doctor(activity, rules=(("08:00", "20:00"),))  # 72 slots a Monday

    slots = find_slots(activity=activity, start_day=MONDAY, end_day=NEXT_MONDAY, now=NOW)

    assert len(slots) == 100
    assert local_times(slots)[-1] == "08/03 12:30"  # 72 on 01/03, then 28


def test_the_number_of_queries_does_not_grow_with_resources(django_assert_max_num_queries):
    activity = make_activity()
    insurance = InsuranceFactory()
    InsuranceActivityFactory(insurance=insurance, activity=activity)
    doctors = [make_doctor(activity) for _ in range(20)]
    for doctor in doctors:
        InsuranceResourceFactory(insurance=insurance, resource=doctor)
        AppointmentFactory(resource=doctor, activity=activity, start=at(MONDAY, "09:00"), end=at(MONDAY, "09:30"))
    AbsenceFactory(resource=doctors[0], start=at(NEXT_MONDAY, "00:00"), end=at(NEXT_MONDAY, "23:00"))

    # 31 days in chunks of 1, 2, 4, 8 and 16 days: at most 2 queries each, plus 3 to start.
    with django_assert_max_num_queries(13):
        slots = search(activity, end_day=dt.date(2027, 3, 31), limit=1000, insurance=insurance)

    # 5 Mondays x 4 slots x 20 doctors, minus the 20 booked and doctor 0's absent Monday.
    assert len(slots) == 5 * 4 * 20 - 20 - 4
    assert slots[0].start == at(MONDAY, "09:30")


def test_searches_limited_to_other_doctors_do_not_share_an_answer():
    """The catalogue read for one set of doctors is kept for that set only."""
    activity = make_activity()
    first, second = make_doctor(activity), make_doctor(activity)

    assert {s.resource for s in search(activity, resources=[first])} == {first}
    assert {s.resource for s in search(activity, resources=[second])} == {second}
    assert {s.resource for s in search(activity, resources=[first, second])} == {first, second}
