"""The admin on the wall clock of the center concerned: a Las Palmas or Milan doctor is booked, read and
closed in that center's time (on both sides of the next DST change), titles carry no database id and
no UTC time, and the desk's checks (hours, absences, activities offered) are warnings to confirm."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import admin as appointments_admin
from appointments.models import Absence, Appointment, AppointmentStatus, Origin
from demo import factories as f

ONE_DAY = dt.timedelta(days=1)


def next_dst_change(zone: zoneinfo.ZoneInfo) -> dt.date:
    """The first day from tomorrow on whose end has another UTC offset than its start (read from zoneinfo)."""
    day = timezone.localdate() + ONE_DAY
    for _ in range(400):
        if (
            dt.datetime.combine(day, dt.time(), zone).utcoffset()
            != dt.datetime.combine(day + ONE_DAY, dt.time(), zone).utcoffset()
        ):
            return day
        day += ONE_DAY
    raise AssertionError(f"{zone} has no DST change within 400 days")


def doctor_in(zone_name: str, *, weekdays=(), offered=True):
    center = f.CenterFactory(time_zone=zone_name)
    doctor = f.ResourceFactory(location=f.LocationFactory(center=center))
    activity = f.ActivityFactory(duration=20)
    if offered:
        f.ResourceActivityFactory(resource=doctor, activity=activity)
    for weekday in weekdays:
        f.AvailabilityRuleFactory(resource=doctor, weekday=weekday, start_time=dt.time(8), end_time=dt.time(14))
    return doctor, activity


def guide_weekday(day: dt.date) -> int:
    return (day.weekday() + 1) % 7


def booking(doctor, activity, patient, day: dt.date, time: str, end: tuple[dt.date, str] | None = None, **extra):
    data = {
        "lid": "",
        "tid": "",
        "patient": patient.pk,
        "resource": doctor.pk,
        "activity": activity.pk,
        "insurance": "",
        "start_0": f"{day:%d/%m/%Y}",
        "start_1": time,
        "end_0": f"{end[0]:%d/%m/%Y}" if end else "",
        "end_1": end[1] if end else "",
        "status": AppointmentStatus.APPROVED,
        "origin": Origin.DESK,
        "owner_lid": "",
        "owner_tid": "",
        "owner_name": "",
        "notes": "",
    }
    data.update(extra)
    return data


ADD = "admin:appointments_appointment_add"


@pytest.mark.django_db
@pytest.mark.parametrize("zone_name", ["Atlantic/Canary", "Europe/Rome"])
@pytest.mark.parametrize("side", [-1, 2])  # the day before the change, and the day after the change's day
def test_a_doctor_booked_at_nine_is_stored_at_nine_of_the_doctors_center(admin_client, zone_name, side):
    zone = zoneinfo.ZoneInfo(zone_name)
    day = next_dst_change(zone) + side * ONE_DAY
    doctor, activity = doctor_in(zone_name, weekdays=[guide_weekday(day)])

    response = admin_client.post(reverse(ADD), booking(doctor, activity, f.PatientFactory(), day, "09:00"))

    assert response.status_code == 302, response.content.decode()[:3000]
    booked = Appointment.objects.get()
    assert booked.start == dt.datetime.combine(day, dt.time(9), zone)
    assert booked.start.astimezone(zone).hour == 9
    assert booked.end - booked.start == dt.timedelta(minutes=20)  # the activity's duration: no end typed
    # The success message names the appointment by its number and its center's time, without a database id.
    message = str(list(response.wsgi_request._messages)[0])
    assert f"{booked.lid} · {day:%d/%m/%Y} 09:00 · {doctor.lid}" in message


@pytest.mark.django_db
def test_the_las_palmas_and_madrid_doctors_differ_by_an_hour_in_utc(admin_client):
    day = timezone.localdate() + 7 * ONE_DAY
    canary, activity = doctor_in("Atlantic/Canary", weekdays=[guide_weekday(day)])
    madrid = f.ResourceFactory(location=f.LocationFactory(center=f.CenterFactory(time_zone="Europe/Madrid")))
    f.ResourceActivityFactory(resource=madrid, activity=activity)
    f.AvailabilityRuleFactory(resource=madrid, weekday=guide_weekday(day), start_time=dt.time(8), end_time=dt.time(14))
    patient = f.PatientFactory()

    admin_client.post(reverse(ADD), booking(canary, activity, patient, day, "09:00"))
    admin_client.post(reverse(ADD), booking(madrid, activity, patient, day, "10:00"))

    starts = {a.resource_id: a.start for a in Appointment.objects.all()}
    assert starts[canary.pk] == starts[madrid.pk]  # 09:00 in Las Palmas is 10:00 in Madrid


@pytest.mark.django_db
def test_the_change_form_names_the_centers_zone_and_shows_its_time(admin_client):
    day = timezone.localdate() + 3 * ONE_DAY
    doctor, activity = doctor_in("Atlantic/Canary")
    appointment = f.AppointmentFactory(
        resource=doctor, activity=activity, start=dt.datetime.combine(day, dt.time(9), doctor.location.center.zone)
    )

    page = admin_client.get(reverse("admin:appointments_appointment_change", args=[appointment.pk])).content.decode()

    assert "Atlantic/Canary" in page
    assert "Europe/Madrid" not in page
    assert 'value="09:00"' in page
    # The heading: its number and its center's time, never "<lid>: <database id> <UTC time>".
    title = re.search(r"<h2>(.*?)</h2>", page).group(1)
    assert title == f"{appointment.lid} · {day:%d/%m/%Y} 09:00 · {doctor.lid}"
    # Django's note comparing the browser's clock with the server's is hidden: the zone is named instead.
    assert ".timezonewarning { display: none; }" in page


@pytest.mark.django_db
def test_a_form_shown_again_names_the_zone_of_the_doctor_chosen(admin_client):
    day = timezone.localdate() + 3 * ONE_DAY
    doctor, activity = doctor_in("Europe/Rome", offered=False)

    response = admin_client.post(reverse(ADD), booking(doctor, activity, f.PatientFactory(), day, "09:00"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Europe/Rome" in page
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_an_absence_of_a_las_palmas_doctor_is_stored_and_listed_in_las_palmas_time(admin_client):
    zone = zoneinfo.ZoneInfo("Atlantic/Canary")
    doctor, _activity = doctor_in("Atlantic/Canary")
    first = timezone.localdate() + 10 * ONE_DAY
    data = {
        "resource": doctor.pk,
        "center": "",
        "start_0": f"{first:%d/%m/%Y}",
        "start_1": "00:00",
        "end_0": f"{first + ONE_DAY:%d/%m/%Y}",
        "end_1": "00:00",
        "reason": "Congreso",
    }

    response = admin_client.post(reverse("admin:appointments_absence_add"), data)

    assert response.status_code == 302
    absence = Absence.objects.get()
    assert (absence.start, absence.end) == (
        dt.datetime.combine(first, dt.time(), zone),
        dt.datetime.combine(first + ONE_DAY, dt.time(), zone),
    )
    listing = admin_client.get(reverse("admin:appointments_absence_changelist")).content.decode()
    shown = f"{first:%d/%m/%Y} 00:00"
    assert f"{doctor}: {shown} - {first + ONE_DAY:%d/%m/%Y} 00:00" in str(absence)
    assert listing.count(shown) >= 1 and "23:00" not in listing
    assert "Atlantic/Canary" in listing


@pytest.mark.django_db
def test_a_new_absence_lists_the_appointments_it_falls_on_with_links(admin_client):
    doctor, activity = doctor_in("Europe/Madrid")
    day = timezone.localdate() + 4 * ONE_DAY
    zone = doctor.location.center.zone
    inside = f.AppointmentFactory(resource=doctor, activity=activity, start=dt.datetime.combine(day, dt.time(10), zone))
    f.AppointmentFactory(
        resource=doctor, activity=activity, start=dt.datetime.combine(day + 3 * ONE_DAY, dt.time(10), zone)
    )
    data = {
        "resource": doctor.pk,
        "center": "",
        "start_0": f"{day:%d/%m/%Y}",
        "start_1": "00:00",
        "end_0": f"{day + ONE_DAY:%d/%m/%Y}",
        "end_1": "00:00",
        "reason": "Baja",
    }

    response = admin_client.post(reverse("admin:appointments_absence_add"), data, follow=True)

    absence = Absence.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:appointments_absence_change", args=[absence.pk])
    assert str(appointments_admin.MSG_AFFECTED.format(count=1)) in [str(m) for m in response.context["messages"]]
    page = response.content.decode()
    assert reverse("admin:appointments_appointment_change", args=[inside.pk]) in page
    assert f"{day:%d/%m/%Y} 10:00" in page


# The desk's checks, as warnings the clerk confirms


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["outside_hours", "absence", "not_offered", "holiday"])
def test_a_booking_out_of_the_doctors_terms_is_a_warning_to_confirm(admin_client, case):
    day = timezone.localdate() + 5 * ONE_DAY
    doctor, activity = doctor_in("Atlantic/Canary", weekdays=[guide_weekday(day)], offered=case != "not_offered")
    zone = doctor.location.center.zone
    time = "16:00" if case == "outside_hours" else "09:00"
    if case == "absence":
        f.AbsenceFactory(
            resource=doctor,
            start=dt.datetime.combine(day, dt.time(), zone),
            end=dt.datetime.combine(day + ONE_DAY, dt.time(), zone),
        )
    if case == "holiday":
        f.AbsenceFactory(
            resource=None,
            center=doctor.location.center,
            start=dt.datetime.combine(day, dt.time(), zone),
            end=dt.datetime.combine(day + ONE_DAY, dt.time(), zone),
        )
    data = booking(doctor, activity, f.PatientFactory(), day, time)

    warned = admin_client.post(reverse(ADD), data)

    assert warned.status_code == 200
    page = warned.content.decode()
    expected = {
        "outside_hours": f"{day:%d/%m/%Y} 16:00-16:20 is outside the opening hours of",
        "absence": "is absent then",
        "not_offered": "does not offer",
        "holiday": "The center is closed then",
    }[case]
    assert expected in page
    assert "Book anyway" in page
    assert not Appointment.objects.exists()

    confirmed = admin_client.post(reverse(ADD), {**data, "book_anyway": "on"})

    assert confirmed.status_code == 302
    assert Appointment.objects.get().start == dt.datetime.combine(day, dt.time(*map(int, time.split(":"))), zone)


@pytest.mark.django_db
def test_a_booking_inside_the_doctors_hours_needs_no_confirmation_and_a_typed_end_is_kept(admin_client):
    day = timezone.localdate() + 5 * ONE_DAY
    doctor, activity = doctor_in("Europe/Rome", weekdays=[guide_weekday(day)])

    response = admin_client.post(
        reverse(ADD), booking(doctor, activity, f.PatientFactory(), day, "09:00", end=(day, "09:45"))
    )

    assert response.status_code == 302
    booked = Appointment.objects.get()
    assert booked.end - booked.start == dt.timedelta(minutes=45)


@pytest.mark.django_db
def test_the_end_follows_the_doctors_own_duration_for_the_activity(admin_client):
    day = timezone.localdate() + 5 * ONE_DAY
    doctor, activity = doctor_in("Europe/Madrid", weekdays=[guide_weekday(day)])
    doctor.resource_activities.update(duration=35)

    admin_client.post(reverse(ADD), booking(doctor, activity, f.PatientFactory(), day, "09:00"))

    booked = Appointment.objects.get()
    assert booked.end - booked.start == dt.timedelta(minutes=35)


@pytest.mark.django_db
def test_moving_an_appointment_outside_the_hours_is_a_warning_too(admin_client):
    day = timezone.localdate() + 5 * ONE_DAY
    doctor, activity = doctor_in("Europe/Madrid", weekdays=[guide_weekday(day)])
    zone = doctor.location.center.zone
    appointment = f.AppointmentFactory(
        resource=doctor, activity=activity, start=dt.datetime.combine(day, dt.time(9), zone)
    )
    url = reverse("admin:appointments_appointment_change", args=[appointment.pk])
    data = booking(doctor, activity, appointment.patient, day, "19:00", end=(day, "19:15"))
    data["lid"] = appointment.lid

    warned = admin_client.post(url, data)
    confirmed = admin_client.post(url, {**data, "book_anyway": "on"})

    assert warned.status_code == 200 and "is outside the opening hours of" in warned.content.decode()
    assert confirmed.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == dt.datetime.combine(day, dt.time(19), zone)


# The appointment list


@pytest.mark.django_db
def test_the_list_opens_at_today_with_active_appointments_only(admin_client):
    doctor, activity = doctor_in("Europe/Madrid")
    zone = doctor.location.center.zone
    today = timezone.localdate(timezone=zone)

    def at(day, hour, **kw):
        return f.AppointmentFactory(
            resource=doctor, activity=activity, start=dt.datetime.combine(day, dt.time(hour), zone), **kw
        )

    later = at(today + 3 * ONE_DAY, 9)
    first = at(today, 23)
    yesterday = at(today - ONE_DAY, 9)
    at(today + ONE_DAY, 9, status=AppointmentStatus.CANCELLED_BY_USER)
    tomorrow = at(today + ONE_DAY, 10)

    def listed(**query):
        response = admin_client.get(reverse("admin:appointments_appointment_changelist"), query)
        return [a.pk for a in response.context["cl"].result_list]

    assert listed() == [first.pk, tomorrow.pk, later.pk]
    assert listed(when="tomorrow") == [tomorrow.pk]
    assert len(listed(when="all", state="all")) == 5
    assert len(listed(state="cancelled")) == 1
    week = listed(when="week")
    monday = today - dt.timedelta(days=today.weekday())
    in_week = [
        a.pk
        for a in (yesterday, first, tomorrow, later)
        if monday <= a.start.astimezone(zone).date() < monday + 7 * ONE_DAY
    ]
    assert week == in_week  # the calendar week, Monday to Sunday, its past days included


# The hospital's words and dates


@pytest.mark.django_db
def test_the_appointment_pages_use_the_hospitals_words_and_dd_mm_yyyy(admin_client):
    doctor, activity = doctor_in("Europe/Madrid")
    day = timezone.localdate() + 2 * ONE_DAY
    appointment = f.AppointmentFactory(
        resource=doctor, activity=activity, start=dt.datetime.combine(day, dt.time(9), doctor.location.center.zone)
    )

    listing = admin_client.get(reverse("admin:appointments_appointment_changelist")).content.decode()
    form = admin_client.get(reverse("admin:appointments_appointment_change", args=[appointment.pk])).content.decode()

    for word in ("Doctor", "Appointment no.", "Confirmed", "When (center time)"):
        assert word in listing + form, word
    assert "APP_LID in tuOtempO" in form  # tuOtempO's names only as help text
    for wire in (">APP_LID<", ">RESOURCE_LID<", "Resources", "Pending"):
        assert wire not in listing + form, wire
    assert f'value="{day:%d/%m/%Y}"' in form  # the date input writes dd/mm/yyyy
    created = timezone.localtime(appointment.created)
    assert f"{created:%d/%m/%Y}" in form


@pytest.mark.django_db
def test_the_results_filters_are_named_in_the_hospitals_words(admin_client):
    f.MedicalResultFactory()

    listing = admin_client.get(reverse("admin:results_medicalresult_changelist")).content.decode()

    assert "By file type" in listing and "DOWNLOAD_TYPE" not in listing


@pytest.mark.django_db
def test_a_new_doctors_absence_is_read_on_the_clock_of_the_location_chosen(admin_client):
    from tests.admin.test_admin import _form_data

    location = f.LocationFactory(center=f.CenterFactory(time_zone="Atlantic/Canary"))
    first = timezone.localdate() + 20 * ONE_DAY
    page = admin_client.get(reverse("admin:appointments_resource_add"))
    data = _form_data(
        page,
        lid="D900",
        first_name="Nira",
        location=location.pk,
        **{
            "absences-TOTAL_FORMS": "1",
            "absences-0-start_0": f"{first:%d/%m/%Y}",
            "absences-0-start_1": "00:00",
            "absences-0-end_0": f"{first + ONE_DAY:%d/%m/%Y}",
            "absences-0-end_1": "00:00",
            "absences-0-reason": "Congreso",
        },
    )

    response = admin_client.post(reverse("admin:appointments_resource_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    absence = Absence.objects.get()
    assert absence.start == dt.datetime.combine(first, dt.time(), zoneinfo.ZoneInfo("Atlantic/Canary"))


@pytest.mark.django_db
def test_the_form_asks_the_zone_of_the_doctor_or_center_picked(admin_client, client, django_user_model):
    doctor, _activity = doctor_in("Atlantic/Canary")
    rome = f.CenterFactory(time_zone="Europe/Rome")
    url = reverse("admin:appointments_resource_clock")

    by_doctor = admin_client.get(url, {"resource": doctor.pk}).json()
    by_center = admin_client.get(url, {"center": rome.pk}).json()
    page = admin_client.get(reverse(ADD)).content.decode()

    assert by_doctor == {"text": f"Wall-clock time of {doctor.location.center.name}: Atlantic/Canary."}
    assert by_center["text"].endswith("Europe/Rome.")
    assert f'data-clock-url="{url}"' in page and "appointments/center_clock.js" in page
    stranger = django_user_model.objects.create_user(username="stranger", password="x", is_staff=True)
    client.force_login(stranger)
    assert client.get(url, {"resource": doctor.pk}).status_code == 403
