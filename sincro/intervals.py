"""What TT_AVAILABILITIES shows: the doctors' weekly availability rules, split where absences and
center holidays close them, so that the free slots tuOtempO computes from the views alone (intervals
with the doctor's step and the activity's duration, minus TT_RESERVATIONS) are the slots that
searchAvailabilities offers.

A rule untouched by any absence is one interval with the rule's own id. A rule some absence touches is
cut into weekly intervals between the days it touches, and each touched day gets one-day intervals for
the hours left open. Slots start at the rule's start plus whole steps: a one-day interval that starts
later than the rule (after an absence) starts at the next such time, which depends on the step; when
the doctor's activities step differently, one interval per step is written, each restricted to its
activities (TT_ACTIVITIES_AVAILABILITIES).

Intervals are rebuilt for a doctor whenever its rules, absences, center holidays or activities change
(signals.py), and wholly by the worker when the catalogue version moves (appointments/catalogue.py:
database triggers move it on any write, so rows written in bulk or by raw SQL are seen too).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from appointments.models import Absence, Activity, AvailabilityRule, Resource, ResourceActivity
from centers.models import Center
from sincro.models import Interval

ONE_DAY = dt.timedelta(days=1)
DAY_SECONDS = 86400
# Absences that ended before this many days ago change nothing the views show.
PAST_DAYS = 2
REBUILD_LOCK = 7_310_001  # an advisory lock's key of this project's own


def _seconds(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _time(seconds: int) -> dt.time:
    seconds = min(seconds, DAY_SECONDS - 1)
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _weekday(day: dt.date) -> int:
    return (day.weekday() + 1) % 7  # the guide counts from Sunday = 0


def _lid(rule: AvailabilityRule, suffix: str) -> str:
    lid = f"{rule.lid}~{suffix}"
    return lid if len(lid) <= 50 else f"R{rule.pk}~{suffix}"


def _cuts_by_day(rule: AvailabilityRule, absences: list[tuple[dt.datetime, dt.datetime]]) -> dict[dt.date, list]:
    """The rule's days that absences close in part or whole: for each, the closed spans (seconds of the day)."""
    rule_start, rule_end = _seconds(rule.start_time), _seconds(rule.end_time)
    cuts = defaultdict(list)
    for start, end in absences:
        day = start.date()
        while day <= end.date():
            if (
                _weekday(day) == rule.weekday
                and (rule.valid_from is None or day >= rule.valid_from)
                and (rule.valid_to is None or day <= rule.valid_to)
            ):
                midnight = dt.datetime.combine(day, dt.time())
                low = max(0, int((start - midnight).total_seconds()))
                high = min(DAY_SECONDS, int((end - midnight).total_seconds()))
                if low < rule_end and high > rule_start:
                    cuts[day].append((low, high))
            day += ONE_DAY
    return cuts


def _open_pieces(rule_start: int, rule_end: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces, cursor = [], rule_start
    for low, high in sorted(cuts):
        if low > cursor:
            pieces.append((cursor, min(low, rule_end)))
        cursor = max(cursor, high)
    if cursor < rule_end:
        pieces.append((cursor, rule_end))
    return [(a, b) for a, b in pieces if b > a]


def intervals_of(
    rule: AvailabilityRule,
    *,
    steps: dict[int, int],
    absences: list[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[Interval, list[int]]]:
    """The intervals of one rule (unsaved) with the activities each is restricted to (empty: every one).
    `steps`: the step in seconds of each activity the doctor offers; `absences`: the spans closing the
    doctor, as wall-clock times of its center."""
    restricted = [a.pk for a in rule.activities.all()]
    base = {"resource_id": rule.resource_id, "rule": rule, "weekday": rule.weekday}
    cuts = _cuts_by_day(rule, absences)
    if not cuts:
        interval = Interval(
            lid=rule.lid,
            start_time=rule.start_time,
            end_time=rule.end_time,
            start_day=rule.valid_from,
            end_day=rule.valid_to,
            **base,
        )
        return [(interval, restricted)]

    rows = []
    # The weekly parts between the days absences touch.
    first = rule.valid_from
    for number, day in enumerate([*sorted(cuts), None]):
        last = rule.valid_to if day is None else day - ONE_DAY
        if first is None or last is None or first <= last:
            lid = _lid(rule, f"w{number}")
            interval = Interval(
                lid=lid, start_time=rule.start_time, end_time=rule.end_time, start_day=first, end_day=last, **base
            )
            rows.append((interval, restricted))
        first = None if day is None else day + ONE_DAY

    # The hours each touched day leaves open.
    rule_start, rule_end = _seconds(rule.start_time), _seconds(rule.end_time)
    activities = restricted or list(steps)
    by_step = defaultdict(list)
    for activity_id in activities:
        if activity_id in steps:
            by_step[steps[activity_id]].append(activity_id)
    one_step = len(by_step) <= 1
    for day, day_cuts in sorted(cuts.items()):
        for number, (low, high) in enumerate(_open_pieces(rule_start, rule_end, day_cuts)):
            stamp = f"{day:%Y%m%d}-{number}"
            if low == rule_start or not by_step:
                groups = [(low, restricted, stamp)]
            elif one_step and not restricted:
                step = next(iter(by_step))
                groups = [(rule_start + -(-(low - rule_start) // step) * step, [], stamp)]
            else:
                groups = [
                    (rule_start + -(-(low - rule_start) // step) * step, sorted(ids), f"{stamp}-{step // 60}")
                    for step, ids in sorted(by_step.items())
                ]
            for start, ids, suffix in groups:
                if start >= high:
                    continue
                interval = Interval(
                    lid=_lid(rule, suffix),
                    start_time=_time(start),
                    end_time=_time(high),
                    start_day=day,
                    end_day=day,
                    **base,
                )
                rows.append((interval, ids))
    return rows


@transaction.atomic
def rebuild(*, resource_ids: Iterable[int] | None = None) -> int:
    """Writes the intervals of these doctors (of every doctor when None) anew; returns how many."""
    if connection.vendor == "postgresql":  # rebuilds take turns (two workers starting at once)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK])
    resources = Resource.objects.select_related("location__center")
    if resource_ids is not None:
        resources = resources.filter(pk__in=list(resource_ids))
    resources = {r.pk: r for r in resources}
    stale = Interval.objects.all() if resource_ids is None else Interval.objects.filter(resource_id__in=resources)
    stale.delete()
    if not resources:
        return 0

    steps = defaultdict(dict)
    offered = ResourceActivity.objects.filter(resource_id__in=resources).select_related("activity")
    for row in offered:
        resource = resources[row.resource_id]
        duration = (row.duration or row.activity.duration) * 60
        steps[row.resource_id][row.activity_id] = (resource.availabilities_step or 0) * 60 or duration

    since = timezone.now() - dt.timedelta(days=PAST_DAYS)
    centers = {r.location.center_id for r in resources.values()}
    absences = defaultdict(list)
    found = Absence.objects.filter(Q(resource_id__in=resources) | Q(center_id__in=centers), end__gt=since)
    by_center = defaultdict(list)
    for resource in resources.values():
        by_center[resource.location.center_id].append(resource)
    for absence in found:
        for resource in [resources[absence.resource_id]] if absence.resource_id else by_center[absence.center_id]:
            zone = resource.location.center.zone
            span = (
                timezone.localtime(absence.start, zone).replace(tzinfo=None),
                timezone.localtime(absence.end, zone).replace(tzinfo=None),
            )
            absences[resource.pk].append(span)

    rules = AvailabilityRule.objects.filter(resource_id__in=resources).prefetch_related("activities")
    new, restrictions = [], []
    for rule in rules.order_by("pk"):
        for interval, activity_ids in intervals_of(
            rule, steps=steps[rule.resource_id], absences=absences[rule.resource_id]
        ):
            new.append(interval)
            restrictions.append(activity_ids)
    Interval.objects.bulk_create(new, batch_size=1000)
    through = Interval.activities.through
    links = [
        through(interval_id=interval.pk, activity_id=activity_id)
        for interval, activity_ids in zip(new, restrictions, strict=True)
        for activity_id in activity_ids
    ]
    through.objects.bulk_create(links, batch_size=1000)
    return len(new)


def resources_of_center(center: Center | int) -> list[int]:
    center_id = center if isinstance(center, int) else center.pk
    return list(Resource.objects.filter(location__center_id=center_id).values_list("pk", flat=True))


def resources_offering(activity: Activity) -> list[int]:
    return list(ResourceActivity.objects.filter(activity=activity).values_list("resource_id", flat=True))
