"""`seed_demo` loads a deterministic, idempotent demo hospital; `ensure_demo_admin` shows a password once."""

import datetime as dt
import io
import re
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from appointments.models import (
    ACTIVE_STATUSES,
    CANCELLED_STATUSES,
    Absence,
    Activity,
    ActivityGroup,
    Appointment,
    AvailabilityRule,
    Insurance,
    InsuranceActivity,
    InsuranceResource,
    Origin,
    Resource,
    ResourceActivity,
)
from centers.models import Center, Location
from demo.hospital import MSG_NOTHING_CHANGED, seed_demo_hospital
from patients.models import Patient
from results.models import MedicalResult, ResultStatus

pytestmark = pytest.mark.django_db

MODELS = [
    Center,
    Location,
    ActivityGroup,
    Activity,
    Insurance,
    Resource,
    ResourceActivity,
    InsuranceActivity,
    InsuranceResource,
    AvailabilityRule,
    AvailabilityRule.activities.through,
    Absence,
    Patient,
    Appointment,
    MedicalResult,
]
# Children first, so that nothing protected is left behind.
DELETE_ORDER = [
    Appointment,
    MedicalResult,
    Absence,
    AvailabilityRule,
    ResourceActivity,
    InsuranceActivity,
    InsuranceResource,
    Patient,
    Resource,
    Activity,
    ActivityGroup,
    Insurance,
    Location,
    Center,
]
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue().strip()


def _dump_rows() -> dict[str, list[dict]]:
    """Every row of every model, exactly as stored."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in MODELS}


def _dump_natural() -> dict[str, list[str]]:
    """Every row without primary keys and auto timestamps, foreign keys named by their external ids."""
    dump = {}
    for model in MODELS:
        columns = []
        for f in model._meta.concrete_fields:
            if f.primary_key or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                continue
            columns.append(f"{f.name}__lid" if f.is_relation else f.name)
        dump[model._meta.label] = sorted(repr(row) for row in model.objects.values_list(*columns))
    return dump


def _delete_everything() -> None:
    for model in DELETE_ORDER:
        model.objects.all().delete()


def test_a_second_run_changes_nothing():
    first = _seed()
    before = _dump_rows()

    second = _seed()

    assert first.startswith("demo hospital (seed 1) created: 3 centers")
    assert "200 patients" in first
    assert second == MSG_NOTHING_CHANGED
    assert _dump_rows() == before


def test_it_creates_exactly_the_demo_rows_and_nothing_else():
    created = seed_demo_hospital(seed=1)

    in_database = {
        "centers": Center.objects.count(),
        "locations": Location.objects.count(),
        "groups": ActivityGroup.objects.count(),
        "activities": Activity.objects.count(),
        "insurances": Insurance.objects.count(),
        "resources": Resource.objects.count(),
        "resource_activities": ResourceActivity.objects.count(),
        "insurance_activities": InsuranceActivity.objects.count(),
        "insurance_resources": InsuranceResource.objects.count(),
        "rules": AvailabilityRule.objects.count(),
        "absences": Absence.objects.count(),
        "patients": Patient.objects.count(),
        "appointments": Appointment.objects.count(),
        "results": MedicalResult.objects.count(),
    }
    assert in_database == created
    assert {key: n for key, n in created.items() if key != "appointments"} == {
        "centers": 3,
        "locations": 5,
        "groups": 10,
        "activities": 25,
        "insurances": 10,
        "resources": 36,
        "resource_activities": 90,
        "insurance_activities": 226,
        "insurance_resources": 216,
        "rules": 189,
        "absences": 5,
        "patients": 200,
        "results": 60,
    }
    assert set(Center.objects.values_list("lid", flat=True)) == {"MAD", "LPA", "MIL"}
    assert not Location.objects.exclude(lid__regex=r"^(MAD|LPA|MIL)-").exists()
    assert not Resource.objects.exclude(lid__regex=r"^D0\d\d$").exists()
    assert not Patient.objects.exclude(lid__startswith="DEMO-P").exists()
    assert not Appointment.objects.exclude(lid__startswith="DEMO-A").exists()
    assert AvailabilityRule.activities.through.objects.count() == 8


def test_the_same_seed_gives_the_same_hospital():
    _seed("--seed", "7")
    first = _dump_natural()
    _delete_everything()
    assert Patient.objects.count() == 0

    output = _seed("--seed", "7")

    assert "seed 7" in output
    assert _dump_natural() == first
    assert len(first["appointments.Appointment"]) > 500


def test_another_seed_gives_other_patients():
    _seed("--seed", "7")
    people_7 = list(Patient.objects.order_by("lid").values_list("lid", "first_name", "second_name", "id_number"))
    _delete_everything()

    _seed("--seed", "8")

    people_8 = list(Patient.objects.order_by("lid").values_list("lid", "first_name", "second_name", "id_number"))
    assert [p[0] for p in people_7] == [p[0] for p in people_8]  # the same DEMO-P ids...
    assert sum(a != b for a, b in zip(people_7, people_8, strict=True)) > 150  # ...for other people


def test_it_loads_centers_doctors_activities_and_insurances():
    _seed()

    zones = dict(Center.objects.values_list("lid", "time_zone"))
    assert zones["MAD"] == "Europe/Madrid" and zones["LPA"] == "Atlantic/Canary"
    assert len(set(zones.values())) >= 2
    assert Location.objects.values("center").distinct().count() == len(zones)
    assert Resource.objects.count() >= 30
    assert {"Sanitas", "Adeslas", "Mapfre Salud", "DKV Seguros", "Asisa", "Generali Italia"} <= set(
        Insurance.objects.values_list("name", flat=True)
    )
    assert ResourceActivity.objects.exclude(duration=None).exists()
    assert ResourceActivity.objects.exclude(price=None).exists()
    assert InsuranceActivity.objects.exclude(price=None).exists() and InsuranceActivity.objects.filter(price=None)
    assert Resource.objects.exclude(availabilities_step=None).exists()
    assert AvailabilityRule.objects.filter(activities__isnull=False).exists()  # some rules restricted
    for activity in Activity.objects.filter(web_enabled=True):
        assert 10 <= activity.duration <= 45 and activity.price > 0 and activity.group is not None
        doctors = Resource.objects.filter(
            web_enabled=True, resource_activities__activity=activity, availability_rules__isnull=False
        ).distinct()
        assert doctors.count() >= 2, activity.lid
        weekdays = AvailabilityRule.objects.filter(resource__in=doctors, valid_to=None).values("weekday")
        assert weekdays.distinct().count() >= 3, activity.lid
        assert InsuranceActivity.objects.filter(activity=activity, insurance__web_enabled=True).exists()
        assert InsuranceResource.objects.filter(resource__in=doctors, insurance__web_enabled=True).exists()


def test_it_loads_absences_patients_appointments_and_results():
    _seed()
    now = timezone.now()

    assert Absence.objects.filter(resource__isnull=False).exists()
    assert Absence.objects.filter(center__isnull=False).exists()
    patients = Patient.objects.filter(lid__startswith="DEMO-P")
    assert patients.count() == 200
    dni = patients.filter(id_number__regex=r"^\d{8}[A-Z]$")
    assert dni.count() > 150
    assert all(DNI_LETTERS[int(number[:8]) % 23] == number[8] for number in dni.values_list("id_number", flat=True))
    assert patients.exclude(mobile_phone="").exclude(email="").count() > 100
    assert Appointment.objects.filter(start__lt=now).count() > 100
    assert Appointment.objects.filter(start__gt=now, status__in=ACTIVE_STATUSES).count() > 100
    assert Appointment.objects.filter(status__in=CANCELLED_STATUSES).exclude(cancelled_at=None).count() > 20
    assert set(Appointment.objects.values_list("origin", flat=True)) == set(Origin.values)
    results = MedicalResult.objects.filter(lid__startswith="DEMO-RES")
    assert results.count() == 60
    assert results.filter(status=ResultStatus.WITHDRAWN).exists()
    assert results.filter(created__gte=now - dt.timedelta(days=7)).exists()
    for result in results:
        with result.file.open("rb") as handle:
            content = handle.read()
        assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
        assert result.size == len(content)


def test_no_two_active_appointments_of_a_doctor_overlap():
    _seed()

    by_resource = defaultdict(list)
    for resource_id, start, end in Appointment.objects.filter(status__in=ACTIVE_STATUSES).values_list(
        "resource_id", "start", "end"
    ):
        by_resource[resource_id].append((start, end))
    overlaps = 0
    for spans in by_resource.values():
        spans.sort()
        overlaps += sum(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))
    assert overlaps == 0
    assert sum(len(spans) for spans in by_resource.values()) > 500


def _has_free_slot(activity: Activity, day: dt.date, now: dt.datetime) -> bool:
    """A slot of the activity on that day, by the rules of searchAvailabilities, using plain queries."""
    offers = ResourceActivity.objects.filter(
        activity=activity, resource__web_enabled=True, resource__location__center__web_enabled=True
    ).select_related("resource__location__center")
    for offer in offers:
        resource, center = offer.resource, offer.resource.location.center
        duration = dt.timedelta(minutes=offer.duration or activity.duration)
        step = dt.timedelta(minutes=resource.availabilities_step) if resource.availabilities_step else duration
        rules = (
            AvailabilityRule.objects.filter(resource=resource, weekday=(day.weekday() + 1) % 7)
            .filter(Q(valid_from=None) | Q(valid_from__lte=day), Q(valid_to=None) | Q(valid_to__gte=day))
            .filter(Q(activities=None) | Q(activities=activity))
            .distinct()
        )
        for rule in rules:
            opens = dt.datetime.combine(day, rule.start_time, tzinfo=center.zone)
            closes = dt.datetime.combine(day, rule.end_time, tzinfo=center.zone)
            taken = list(
                Appointment.objects.filter(
                    resource=resource, status__in=ACTIVE_STATUSES, start__lt=closes, end__gt=opens
                ).values_list("start", "end")
            ) + list(
                Absence.objects.filter(
                    Q(resource=resource) | Q(center=center), start__lt=closes, end__gt=opens
                ).values_list("start", "end")
            )
            start = opens
            while start + duration <= closes:
                if start >= now and not any(s < start + duration and e > start for s, e in taken):
                    return True
                start += step
    return False


def test_every_web_activity_has_free_slots_in_each_of_the_next_four_weeks():
    _seed()
    now, today = timezone.now(), timezone.localdate()

    for activity in Activity.objects.filter(web_enabled=True):
        for week in range(4):
            days = [today + dt.timedelta(days=1 + 7 * week + i) for i in range(7)]
            assert any(_has_free_slot(activity, day, now) for day in days), (activity.lid, week)
    for week in range(4):
        since = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1 + 7 * week), dt.time()))
        booked = Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__gte=since)
        assert booked.filter(start__lt=since + dt.timedelta(days=7)).exists(), week


def test_the_slot_engine_offers_every_web_activity_in_each_of_the_next_four_weeks():
    from appointments.slots import find_slots

    _seed()
    today = timezone.localdate()

    for activity in Activity.objects.filter(web_enabled=True):
        for week in range(4):
            first = today + dt.timedelta(days=1 + 7 * week)
            slots = find_slots(activity=activity, start_day=first, end_day=first + dt.timedelta(days=6), limit=1)
            assert len(slots) == 1, (activity.lid, week)


def test_a_later_run_adds_future_appointments_once():
    seed_demo_hospital(seed=1, today=timezone.localdate() - dt.timedelta(days=30))
    horizon = timezone.now() + dt.timedelta(days=14)
    assert not Appointment.objects.filter(start__gt=horizon).exists()
    before = Appointment.objects.count()

    output = _seed()

    added = Appointment.objects.count() - before
    assert f"{added} appointments" in output and added > 100
    assert Appointment.objects.filter(start__gt=horizon, status__in=ACTIVE_STATUSES).exists()
    assert Patient.objects.count() == 200
    assert _seed() == MSG_NOTHING_CHANGED


def _admin(monkeypatch, port: str) -> str:
    monkeypatch.setenv("HIS_PORT", port)
    out = io.StringIO()
    call_command("ensure_demo_admin", stdout=out)
    return out.getvalue()


def test_ensure_demo_admin_shows_the_password_only_once(client, monkeypatch):
    first = _admin(monkeypatch, "8123")
    second = _admin(monkeypatch, "8123")

    password = re.search(r"password: (\S+)", first).group(1)
    assert "http://127.0.0.1:8123/admin/" in first and "username: admin" in first
    assert "http://127.0.0.1:8123/desk/" in first and "http://127.0.0.1:8123/desk/" in second
    assert "will not be shown again" in first
    assert password not in second and "password:" not in second
    assert "changepassword admin" in second and "http://127.0.0.1:8123/admin/" in second
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
    assert client.login(request=HttpRequest(), username="admin", password=password)  # axes wants the request


def test_ensure_demo_admin_leaves_an_existing_superuser_alone(monkeypatch):
    get_user_model().objects.create_superuser(username="boss", email="", password="s3cret-pass")
    monkeypatch.delenv("HIS_PORT", raising=False)

    output = _admin(monkeypatch, "")

    assert "http://127.0.0.1:8000/admin/" in output and "changepassword boss" in output
    assert "http://127.0.0.1:8000/desk/" in output
    assert "s3cret-pass" not in output
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["boss"]
