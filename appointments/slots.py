"""The hospital's free slots: what searchAvailabilities offers and what addAppointment may book.

A slot is offered when a web-enabled resource of a web-enabled center offers a web-enabled activity
(a ResourceActivity row), one of the resource's availability rules covers it (weekday 0 = Sunday ..
6 = Saturday, daily hours as wall-clock times of the center's time zone, validity dates inclusive,
the rule's activities if it names any), it starts at the rule's start plus a whole number of steps
(the resource's availabilities_step, else the duration) and ends by the rule's end, it starts no
earlier than now, and it overlaps no active appointment of the resource and no absence of the
resource or of its center. With an insurance, the insurance must be web-enabled and related to both
the resource and the activity.

That is what is offered online, to integration clients. The hospital itself (its desk) books under the
same rules without the web flags (`online=False`): also phone-only activities, desk-only doctors and
centers, and insurances not offered online.

Times are wall-clock: a 09:00 rule gives 09:00 local on both sides of a DST change. Local times that
do not exist (the hour skipped when clocks go forward) give no slot; repeated ones (clocks going
back) are taken at their first occurrence.

An availability id: "<UTC start>-<resource pk>-<activity pk>", the UTC start written YYYYMMDDTHHMMZ
(YYYYMMDDTHHMMSSZ if it has seconds), e.g. "20271214T0830Z-12-3" is resource 12, activity 3, starting
14/12/2027 at 08:30 UTC (09:30 in Madrid). It names one slot for ever, and is at most 50 characters.
"""

import datetime as dt
import json
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from appointments.catalogue import cached, catalogue_rows
from appointments.models import (
    ACTIVE_STATUSES,
    Absence,
    Activity,
    Appointment,
    AvailabilityRule,
    Insurance,
    InsuranceActivity,
    Resource,
    ResourceActivity,
)
from centers.models import Center, Location
from core.errors import INVALID_INPUT, DomainError

MSG_BAD_SLOT_LID = (
    "{T.SLOT:cap} {value!r} is not one this hospital gave out; search the availabilities again and "
    "use an {T.SLOT} from the answer."
)
MSG_BAD_LIMIT = "The number of availabilities asked for must be at least 1."
MSG_WINDOW_INVERTED = "The search window ends before it starts: check {T.SEARCH_START} and {T.SEARCH_END}."
MSG_BAND_INVERTED = "{T.LATEST_END:cap} must be later than {T.EARLIEST_START}."
MSG_WINDOW_TOO_LONG = "The search window spans {days} days: search at most {limit} days at a time."
MSG_DURATIONS_DIFFER = (
    "Without {T.ACTIVITY} the activities searched must all last the same, and these do not: {durations}. "
    "Name the activity."
)
MAX_WINDOW_DAYS = 366
FIRST_YEAR, LAST_YEAR = 1850, 2200

# Appointments are looked up by start (the indexed column); one that started this long before a
# slot is assumed to be over. Longer blocks belong in absences.
MAX_APPOINTMENT_LENGTH = dt.timedelta(hours=24)
LID_MAX_LENGTH = 50
SLOT_LID_RE = re.compile(r"(\d{8}T\d{4}(?:\d{2})?)Z-([1-9]\d{0,17})-([1-9]\d{0,17})")
ONE_DAY = dt.timedelta(days=1)
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class SlotKey(NamedTuple):
    resource_id: int
    activity_id: int
    start: dt.datetime  # aware, UTC


@dataclass(frozen=True)
class Slot:
    """One bookable interval: a resource, for an activity (and insurance), at a time of its center."""

    resource: Resource  # with location and location.center loaded
    activity: Activity
    insurance: Insurance | None  # the insurance asked for, or None (self-pay)
    location: Location
    start: dt.datetime  # aware, in the center's time zone
    end: dt.datetime  # aware, in the center's time zone
    price: Decimal | None  # insurance-activity price, else resource-activity price, else activity price

    @property
    def lid(self) -> str:
        """The availability id of this slot (format in the module docstring)."""
        start = self.start.astimezone(dt.UTC)
        stamp = f"{start:%Y%m%dT%H%M%S}" if start.second else f"{start:%Y%m%dT%H%M}"
        return f"{stamp}Z-{self.resource.pk}-{self.activity.pk}"


@dataclass
class _Offer:
    """A resource offering an activity, with what the search needs of it (times in seconds)."""

    resource: Resource
    activity: Activity
    zone: ZoneInfo
    duration: int
    step: int
    price: Decimal | None
    rules: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))

    @cached_property
    def resource_id(self) -> int:  # read for every candidate: Django's pk property costs more than this
        return self.resource.pk

    @cached_property
    def order(self) -> tuple[str, str]:
        """Among slots starting at one instant: by resource id, then activity id."""
        return self.resource.lid, self.activity.lid


def parse_slot_lid(value: str) -> SlotKey:
    """The resource, activity and UTC start named by an availability id; INVALID_INPUT if it is not one."""
    match = SLOT_LID_RE.fullmatch((value or "").strip())
    if not match or len(match.group(0)) > LID_MAX_LENGTH:
        raise DomainError(INVALID_INPUT, MSG_BAD_SLOT_LID, value=value)
    stamp, resource_id, activity_id = match.groups()
    try:
        start = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S" if len(stamp) == 15 else "%Y%m%dT%H%M")
    except ValueError:
        raise DomainError(INVALID_INPUT, MSG_BAD_SLOT_LID, value=value) from None
    if not FIRST_YEAR <= start.year <= LAST_YEAR:  # wall-clock arithmetic at the calendar's ends overflows
        raise DomainError(INVALID_INPUT, MSG_BAD_SLOT_LID, value=value)
    return SlotKey(int(resource_id), int(activity_id), start.replace(tzinfo=dt.UTC))


def find_slot(
    *,
    resource: Resource,
    activity: Activity,
    start: dt.datetime,
    insurance: Insurance | None = None,
    online: bool = True,
    exclude: Appointment | None = None,
    now: dt.datetime | None = None,
) -> Slot | None:
    """The slot of that resource and activity starting at `start`, if it is offered and free right
    now under every rule of find_slots; else None."""
    found = slots_starting_at(
        resource=resource, start=start, activity=activity, insurance=insurance, online=online, exclude=exclude, now=now
    )
    return found[0] if found else None


def slots_starting_at(
    *,
    resource: Resource,
    start: dt.datetime,
    activity: Activity | None = None,
    insurance: Insurance | None = None,
    online: bool = True,
    exclude: Appointment | None = None,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """The free slots of the resource starting at `start`, one per activity free then (only `activity`'s
    when one is given), under every rule of find_slots."""
    local = start.astimezone(resource.location.center.zone)
    found = find_slots(
        activity=activity,
        resource=resource,
        insurance=insurance,
        start_day=local.date(),
        end_day=local.date(),
        start_time=local.time(),
        limit=1 if activity is not None else None,
        online=online,
        exclude=exclude,
        now=now,
    )
    # Compared as instants: Python never finds a repeated wall-clock time equal to one of another zone.
    return [slot for slot in found if slot.start.timestamp() == start.timestamp()]


def find_slots(
    *,
    activity: Activity | None,
    start_day: dt.date,
    end_day: dt.date,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    min_time: dt.time | None = None,
    max_time: dt.time | None = None,
    limit: int | None = 100,
    resource: Resource | None = None,
    resources: Collection[Resource] | None = None,
    insurance: Insurance | None = None,
    location: Location | None = None,
    centers: Collection[Center] | None = None,
    online: bool = True,
    exclude: Appointment | None = None,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """The earliest free slots of the activity (of every activity when None), at most `limit` (every one
    in the window when None), ordered by date and time (each of its own center), resource id, then
    activity id.

    Days and times are wall-clock values of each center's own time zone. The window runs from
    start_day at start_time (default 00:00) to end_day at end_time (default: the end of that day): a
    slot must start at or after the window's start and END at or before its end. The band min_time ..
    max_time applies to every day: a slot starts at or after min_time and ends at or before max_time.
    Optional filters: one resource or several, an insurance (None: self-pay), a location, a set of
    centers. online=False leaves out the web flags (the hospital's own bookings, module docstring); an
    excluded appointment's time counts as free (it is the one being moved). Without a limit, a fixed
    number of queries whatever the number of resources, activities and days.
    """
    if limit is not None and limit < 1:
        raise DomainError(INVALID_INPUT, MSG_BAD_LIMIT)
    if end_day < start_day or (end_day == start_day and end_time is not None and end_time <= (start_time or dt.time())):
        raise DomainError(INVALID_INPUT, MSG_WINDOW_INVERTED)
    if min_time is not None and max_time is not None and max_time <= min_time:
        raise DomainError(INVALID_INPUT, MSG_BAND_INVERTED)
    if (end_day - start_day).days > MAX_WINDOW_DAYS:
        days = (end_day - start_day).days
        raise DomainError(INVALID_INPUT, MSG_WINDOW_TOO_LONG, days=days, limit=MAX_WINDOW_DAYS)
    now = now or timezone.now()

    catalogue = _catalogue(
        activity=activity,
        resource=resource,
        resources=resources,
        insurance=insurance,
        location=location,
        centers=centers,
        online=online,
    )
    if not catalogue.offers:
        return []
    offers, rule_days = catalogue.for_days(start_day, end_day)
    offers = [offer for offer in offers if offer.rules]
    if not offers:
        return []
    band = (_seconds(min_time), None if max_time is None else _seconds(max_time))
    # A rule that gives no start inside the daily band gives none on any day: no day is walked for it.
    offers = [offer for offer in offers if _yields_in_band(offer, band)]
    if not offers:
        return []
    zones = {offer.zone for offer in offers}
    first_rule_day, last_rule_day = rule_days
    day = max(start_day, first_rule_day or start_day, min(now.astimezone(zone).date() for zone in zones))
    last_day = min(end_day, last_rule_day or end_day)
    window = (start_day, _seconds(start_time), end_day, None if end_time is None else _seconds(end_time))

    # Days are walked in chunks, one busy-time query each, until enough is found. A chunk has at least
    # 1, 2, 4 ... days, and takes more while its candidates stay within SPLIT_OVER x limit: a search of
    # few doctors, or one that finds little free (a fully booked activity), asks for many days at once,
    # and the rows read per query stay bounded. Without a limit, the whole window at once.
    found: list[tuple[int, tuple, _Offer]] = []
    exclude_pk = exclude.pk if exclude is not None else None
    now_seconds = now.timestamp()
    least, following = 1, None  # following: the candidates of the day after a chunk, made to decide its end
    while day <= last_day:
        if limit is None:
            chunk_end = last_day
        else:
            chunk_end = min(last_day, day + dt.timedelta(days=least - 1))
            least *= 2
        if following is None:
            candidates = _candidates(offers, day, chunk_end, window, band, now_seconds)
        else:
            candidates = following
            if chunk_end > day:
                candidates += _candidates(offers, day + ONE_DAY, chunk_end, window, band, now_seconds)
        following = None
        while chunk_end < last_day and len(candidates) < SPLIT_OVER * limit:
            more = _candidates(offers, chunk_end + ONE_DAY, chunk_end + ONE_DAY, window, band, now_seconds)
            if len(candidates) + len(more) > SPLIT_OVER * limit:
                following = more
                break
            candidates += more
            chunk_end += ONE_DAY
        found = sorted(found + _free(candidates, limit, exclude_pk), key=itemgetter(0, 1))[:limit]
        day = chunk_end + ONE_DAY
        # Stop when nothing of a later day can come first (a zone further east may start earlier).
        if len(found) == limit and found[-1][0] < min(
            dt.datetime.combine(day, dt.time(), z).timestamp() for z in zones
        ):
            break
    slots = [_slot(offer, insurance, start) for start, _order, offer in found]
    return sorted(slots, key=wall_clock_order)


def search_slots(*, activity: Activity | None, limit: int, **search) -> list[Slot]:
    """The earliest free slots of the activity (see find_slots); without an activity, of every activity
    the other filters leave, which the guide (B.2.2) allows when they all last the same: a slot of one
    doctor at one time is offered once, for the first of its activities by id. Activities that last
    differently are an input error naming their durations."""
    if activity is not None:
        return find_slots(activity=activity, limit=limit, **search)
    filters = {name: search.get(name) for name in ("resource", "insurance", "location", "centers")}
    offers = _catalogue(activity=None, resources=None, online=True, **filters).offers
    by_duration = defaultdict(set)
    for offer in offers:
        by_duration[offer.duration // 60].add(offer.activity.lid)
    if len(by_duration) > 1:
        durations = "; ".join(f"{m} minutes: {', '.join(sorted(lids))}" for m, lids in sorted(by_duration.items()))
        raise DomainError(INVALID_INPUT, MSG_DURATIONS_DIFFER, durations=durations)
    activities = len({offer.activity.pk for offer in offers}) or 1
    # Each doctor's time may come once per activity: ask for enough to keep `limit` once each.
    slots: dict[tuple, Slot] = {}
    for slot in find_slots(activity=None, limit=limit * activities, **search):  # ordered: first activity by id
        slots.setdefault((slot.resource.pk, slot.start.timestamp()), slot)
    earliest = sorted(slots.values(), key=lambda slot: (slot.start.timestamp(), slot.resource.lid))[:limit]
    return sorted(earliest, key=wall_clock_order)


def wall_clock_order(slot: "Slot") -> tuple:
    """Date, time (each of its own center), resource id and activity id, the order of the answer. The
    earliest slots are chosen by instant; in one time zone the two orders agree."""
    return slot.start.replace(tzinfo=None), slot.resource.lid, slot.activity.lid


def _load_offers(
    *,
    activity: Activity | None,
    resource: Resource | None,
    resources: Collection[Resource] | None,
    insurance: Insurance | None,
    location: Location | None,
    centers: Collection[Center] | None,
    online: bool,
) -> list[_Offer]:
    """The candidate (resource, activity) pairs, with durations, steps and prices, in one or two queries."""
    if online and activity is not None and not activity.web_enabled:
        return []
    offered = ResourceActivity.objects.all() if activity is None else ResourceActivity.objects.filter(activity=activity)
    if online:
        offered = offered.filter(resource__web_enabled=True, resource__location__center__web_enabled=True)
        if activity is None:
            offered = offered.filter(activity__web_enabled=True)
    insurance_prices = {}
    if insurance is not None:
        if online and not insurance.web_enabled:
            return []
        covered = InsuranceActivity.objects.filter(insurance=insurance)
        if activity is not None:
            covered = covered.filter(activity=activity)
        insurance_prices = dict(covered.values_list("activity_id", "price"))
        if not insurance_prices:
            return []
        offered = offered.filter(resource__insurance_resources__insurance=insurance)
        if activity is None:
            offered = offered.filter(activity_id__in=list(insurance_prices))
    if resource is not None:
        offered = offered.filter(resource=resource)
    if resources is not None:
        offered = offered.filter(resource_id__in=[r.pk for r in resources])
    if location is not None:
        offered = offered.filter(resource__location=location)
    if centers is not None:
        offered = offered.filter(resource__location__center__in=list(centers))
    # The pairs are read as plain values; their doctors and activities are the catalogue's kept rows, made
    # once per version for every activity (at 3,000 doctors, making them for each activity's catalogue
    # took most of its first read).
    resources = catalogue_rows(Resource, None).by_pk
    activities = catalogue_rows(Activity, None).by_pk
    offers = []
    pairs = offered.order_by("resource__lid", "activity_id")
    pairs = pairs.values_list("resource_id", "activity_id", "duration", "price")
    for resource_id, activity_id, own_duration, own_price in pairs:
        resource, row_activity = resources.get(resource_id), activity or activities.get(activity_id)
        if resource is None or row_activity is None:  # created since the kept rows' version: the next one has it
            continue
        duration = (own_duration or row_activity.duration) * 60
        prices = (insurance_prices.get(activity_id), own_price, row_activity.price)
        offers.append(
            _Offer(
                resource=resource,
                activity=row_activity,
                zone=resource.location.center.zone,
                duration=duration,
                step=(resource.availabilities_step * 60) if resource.availabilities_step else duration,
                price=next((p for p in prices if p is not None), None),
            )
        )
    return offers


@dataclass(frozen=True)
class _Catalogue:
    """The offers of one set of search filters, each with every rule of its resource that opens it
    (whatever its validity dates), and those rules as read. Kept per catalogue version and shared
    between calls: read only."""

    offers: list[_Offer]
    rules: list[tuple]  # (resource id, activity id or None, weekday, (start s, end s, valid_from, valid_to))
    dated: bool  # some rule has validity dates

    def for_days(self, start_day: dt.date, end_day: dt.date) -> tuple[list[_Offer], tuple]:
        """The offers with the rules valid on some day from start_day to end_day, and the first and
        last day any of those rules is valid (None: open-ended)."""
        if not self.dated:
            return self.offers, (None, None)
        offers = [replace(offer, rules=defaultdict(list)) for offer in self.offers]
        rules = [
            row
            for row in self.rules
            if (row[3][3] is None or row[3][3] >= start_day) and (row[3][2] is None or row[3][2] <= end_day)
        ]
        _fill(offers, rules)
        starts, ends = [row[3][2] for row in rules], [row[3][3] for row in rules]
        first = None if not starts or None in starts else min(starts)
        last = None if not ends or None in ends else max(ends)
        return offers, (first, last)

    @cached_property
    def _by_resource(self) -> dict[int, "_Catalogue"]:
        offers, rules = defaultdict(list), defaultdict(list)
        for offer in self.offers:
            offers[offer.resource_id].append(offer)
        for row in self.rules:
            rules[row[0]].append(row)
        return {pk: _Catalogue(offers[pk], rules[pk], dated=_dated(rules[pk])) for pk in offers}

    def of_resource(self, resource_id: int) -> "_Catalogue":
        """The part of this catalogue that is one resource's (made once per catalogue, when first asked)."""
        return self._by_resource.get(resource_id) or _Catalogue([], [], dated=False)


def _dated(rules: list[tuple]) -> bool:
    return any(row[3][2] or row[3][3] for row in rules)


def _catalogue(
    *,
    activity: Activity | None,
    resource: Resource | None,
    resources: Collection[Resource] | None,
    insurance: Insurance | None,
    location: Location | None,
    centers: Collection[Center] | None,
    online: bool,
) -> _Catalogue:
    """The offers and rules for these filters, read in two or three queries once per catalogue version
    (catalogue.py) and kept for the next calls with the same filters. One doctor's offer of one activity
    (a booking, a one-doctor search) is taken from that activity's catalogue of every doctor: bookings
    spread over thousands of doctor-activity pairs, and each pair read on its own would be read cold."""
    if resource is not None and activity is not None and resources is None:
        every = _catalogue(
            activity=activity, resource=None, resources=None, insurance=insurance, location=location,
            centers=centers, online=online,
        )  # fmt: skip
        return every.of_resource(resource.pk)
    key = (
        None if activity is None else (activity.pk, activity.web_enabled, activity.duration, activity.price),
        None if resource is None else resource.pk,
        None if resources is None else tuple(sorted(r.pk for r in resources)),
        None if insurance is None else (insurance.pk, insurance.web_enabled),
        None if location is None else location.pk,
        None if centers is None else tuple(sorted(c.pk for c in centers)),
        online,
    )

    def read() -> _Catalogue:
        offers = _load_offers(
            activity=activity,
            resource=resource,
            resources=resources,
            insurance=insurance,
            location=location,
            centers=centers,
            online=online,
        )
        rules = _load_rules(offers) if offers else []
        _fill(offers, rules)
        return _Catalogue(offers, rules, dated=_dated(rules))

    return cached("slot_catalogue", key, read)


def _load_rules(offers: list[_Offer]) -> list[tuple]:
    """The rules of the offers' resources, whatever their dates, in one query: those naming no activity
    and those naming one of the offers' activities."""
    activity_ids = {offer.activity.pk for offer in offers}
    rows = (
        AvailabilityRule.objects.filter(resource_id__in={offer.resource_id for offer in offers})
        .filter(Q(activities__isnull=True) | Q(activities__in=activity_ids))
        .values_list("resource_id", "activities", "weekday", "start_time", "end_time", "valid_from", "valid_to")
        .distinct()
    )
    return [
        (resource_id, activity_id, weekday, (_seconds(rule_start), _seconds(rule_end), valid_from, valid_to))
        for resource_id, activity_id, weekday, rule_start, rule_end, valid_from, valid_to in rows
    ]


def _fill(offers: list[_Offer], rules: list[tuple]) -> None:
    """Gives each offer its rules by weekday (a rule naming an activity opens only that one)."""
    by_resource = defaultdict(list)
    for offer in offers:
        by_resource[offer.resource_id].append(offer)
    for resource_id, activity_id, weekday, rule in rules:
        for offer in by_resource[resource_id]:
            if activity_id is None or offer.activity.pk == activity_id:
                offer.rules[weekday].append(rule)


def _candidates(
    offers: list[_Offer], first_day: dt.date, last_day: dt.date, window: tuple, band: tuple, now: float
) -> list[tuple[int, tuple, _Offer]]:
    """Every (UTC start, (resource lid, activity id), offer) the rules give on those days, busy or not."""
    window_start_day, window_start, window_end_day, window_end = window
    band_start, band_end = band
    candidates = []
    day = first_day
    while day <= last_day:
        weekday = (day.weekday() + 1) % 7  # the guide counts from Sunday = 0
        lowest = max(band_start, window_start if day == window_start_day else 0)
        highest = min(x for x in (band_end, window_end if day == window_end_day else None, 86400) if x is not None)
        midnight = (day.toordinal() - EPOCH_ORDINAL) * 86400  # the day's 00:00 as if it were UTC
        offsets = {zone: _constant_offset(day, zone) for zone in {offer.zone for offer in offers}}
        for offer in offers:
            rules = [
                rule
                for rule in offer.rules.get(weekday, ())
                if not ((rule[2] and day < rule[2]) or (rule[3] and day > rule[3]))
            ]
            if not rules:
                continue
            offset, stamps = offsets[offer.zone], []
            for rule_start, rule_end, _from, _to in rules:
                seconds = _starts(rule_start, min(rule_end, highest), lowest, offer.duration, offer.step)
                if offset is not None:  # no clock change that day: a start is the wall-clock time less the offset
                    base = midnight - offset
                    stamps += range(base + seconds.start, base + seconds.stop, seconds.step)
                else:
                    stamps += [t for t in (_timestamp(day, s, offer.zone, None) for s in seconds) if t is not None]
            if len(rules) > 1:  # overlapping rules give some starts twice
                stamps = set(stamps)
            order = offer.order
            candidates += [(start, order, offer) for start in stamps if start >= now]
        day += ONE_DAY
    return candidates


def _starts(rule_start: int, end_by: int, lowest: int, duration: int, step: int) -> range:
    """Start times (seconds of the day) at the rule's start plus whole steps, from `lowest`, ending by `end_by`."""
    steps_to_lowest = max(0, -(-(lowest - rule_start) // step))  # rounded up
    first = rule_start + steps_to_lowest * step
    return range(first, end_by - duration + 1, step)


def _yields_in_band(offer: _Offer, band: tuple) -> bool:
    low, high = band
    return any(
        _starts(rule_start, min(rule_end, 86400 if high is None else high), low, offer.duration, offer.step)
        for rules in offer.rules.values()
        for rule_start, rule_end, _from, _to in rules
    )


def _free(
    candidates: list[tuple[int, tuple, _Offer]], limit: int | None, exclude: int | None
) -> list[tuple[int, tuple, _Offer]]:
    """The earliest `limit` candidates (every one when None) that overlap no active appointment (but the
    excluded one) and no absence. Many more candidates than wanted (many doctors, one day) are checked
    in two parts, the earliest ones first: the busy periods read are then those of the first hours only,
    and the rest's only if the first part does not give enough."""
    if not candidates:
        return []
    candidates.sort(key=itemgetter(0, 1))
    if limit is not None and len(candidates) > SPLIT_OVER * limit:
        parts = [candidates[: FIRST_PART * limit], candidates[FIRST_PART * limit :]]
    else:
        parts = [candidates]
    free: list[tuple[int, tuple, _Offer]] = []
    for part in parts:
        free += _free_in(part, None if limit is None else limit - len(free), exclude)
        if len(free) == limit:
            break
    return free


# Over SPLIT_OVER × limit candidates, the first FIRST_PART × limit are checked first.
SPLIT_OVER, FIRST_PART = 8, 4


def _free_in(
    candidates: list[tuple[int, tuple, _Offer]], limit: int | None, exclude: int | None
) -> list[tuple[int, tuple, _Offer]]:
    """_free's check of sorted candidates against the busy periods of their doctors and hours (one query)."""
    busy = _busy(
        offers={c[2].resource_id: c[2] for c in candidates}.values(),
        since=candidates[0][0],
        until=max(c[0] + c[2].duration for c in candidates),
        exclude=exclude,
    )
    free = []
    for candidate in candidates:
        start, _order, offer = candidate
        starts, ends = busy.get(offer.resource_id, ((), ()))
        before = bisect_left(starts, start + offer.duration) - 1  # the last busy period starting before the end
        if before < 0 or ends[before] <= start:
            free.append(candidate)
            if len(free) == limit:
                break
    return free


def _busy(
    *, offers: Iterable[_Offer], since: int, until: int, exclude: int | None = None
) -> dict[int, tuple[list[float], list[float]]]:
    """Per resource, its busy periods between two instants, merged and sorted: (starts, ends). One query
    (active appointments and absences together). The appointment with primary key `exclude`, if any,
    does not count (it is being moved)."""
    by_center = defaultdict(list)
    for offer in offers:
        by_center[offer.resource.location.center_id].append(offer.resource_id)
    resource_ids = [pk for pks in by_center.values() for pk in pks]
    since_dt, until_dt = dt.datetime.fromtimestamp(since, dt.UTC), dt.datetime.fromtimestamp(until, dt.UTC)
    periods = defaultdict(list)
    for resource_id, center_id, start, end in _busy_rows(resource_ids, list(by_center), since_dt, until_dt, exclude):
        span = (_epoch(start), _epoch(end))
        for pk in [resource_id] if resource_id else by_center[center_id]:
            periods[pk].append(span)
    return {pk: _merged(spans) for pk, spans in periods.items()}


def _busy_rows(
    resource_ids: list[int], center_ids: list[int], since: dt.datetime, until: dt.datetime, exclude: int | None
) -> list[tuple]:
    """(resource id, None, start, end) of the resources' active appointments overlapping since .. until
    (but `exclude`), and (resource id, center id, start, end) of the absences of those resources and
    centers. Written in SQL, not with the ORM: a search runs it once or twice, and building the same
    statement with the ORM cost about three times as much as running it (1.8 against 0.8 ms, 28
    doctors). The statement is the same for any number of resources (one array parameter each list),
    which also lets PostgreSQL keep its plan."""
    vendor = connection.vendor
    ids, instant = _BUSY_DIALECTS["postgresql" if vendor == "postgresql" else "sqlite"]
    statement = _BUSY_SQL.format(
        appointment=connection.ops.quote_name(Appointment._meta.db_table),
        absence=connection.ops.quote_name(Absence._meta.db_table),
        statuses=", ".join("%s" for _ in ACTIVE_STATUSES),
        resources=ids,
        centers=ids,
        start=instant.format("start"),
        end=instant.format("end"),
    )
    as_list = (lambda pks: pks) if vendor == "postgresql" else json.dumps
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        as_list(resource_ids), *ACTIVE_STATUSES, adapt(since - MAX_APPOINTMENT_LENGTH), adapt(until), adapt(since),
        exclude or 0, as_list(resource_ids), as_list(center_ids), adapt(until), adapt(since),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


_BUSY_SQL = """
SELECT resource_id, NULL, {start}, {end} FROM {appointment}
 WHERE resource_id {resources} AND status IN ({statuses})
   AND start > %s AND start < %s AND "end" > %s AND id <> %s
UNION ALL
SELECT resource_id, center_id, {start}, {end} FROM {absence}
 WHERE (resource_id {resources} OR center_id {centers}) AND start < %s AND "end" > %s
"""
# Per database: "is one of a list of ids" with the list as one parameter, and an instant as epoch
# seconds where the database computes them exactly and cheaply (a float: no datetime object is made
# for each of the thousands of busy periods a long search reads; the double nearest to the stored
# microseconds, as datetime.timestamp() gives), else as SQLite gives it (read by _epoch).
_BUSY_DIALECTS = {
    "postgresql": ("= ANY(%s::bigint[])", 'EXTRACT(EPOCH FROM "{}")::float8'),
    "sqlite": ("IN (SELECT value FROM json_each(%s))", '"{}"'),
}


def _epoch(value: float | dt.datetime | str) -> float:
    """Epoch seconds of a busy period's bound as the database gives it: PostgreSQL's float, or SQLite's
    UTC wall-clock time, a datetime where the column's declared type is known, else text."""
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC).timestamp()


def _merged(spans: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    starts, ends = [], []
    for start, end in sorted(spans):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _slot(offer: _Offer, insurance: Insurance | None, start: int) -> Slot:
    return Slot(
        resource=offer.resource,
        activity=offer.activity,
        insurance=insurance,
        location=offer.resource.location,
        start=dt.datetime.fromtimestamp(start, offer.zone),
        end=dt.datetime.fromtimestamp(start + offer.duration, offer.zone),
        price=offer.price,
    )


def _seconds(value: dt.time | None) -> int:
    return 0 if value is None else value.hour * 3600 + value.minute * 60 + value.second


def _constant_offset(day: dt.date, zone: ZoneInfo) -> int | None:
    """The zone's UTC offset in seconds if it holds all day (no clock change that day), else None."""
    midnights = (dt.datetime.combine(day, dt.time(), zone), dt.datetime.combine(day + ONE_DAY, dt.time(), zone))
    offsets = {m.replace(fold=fold).utcoffset() for m in midnights for fold in (0, 1)}
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


def _timestamp(day: dt.date, seconds: int, zone: ZoneInfo, offset: int | None) -> int | None:
    """The UTC instant of a wall-clock time of `day`; None if the clocks skip it."""
    naive = (day.toordinal() - EPOCH_ORDINAL) * 86400 + seconds
    if offset is not None:
        return naive - offset
    local = dt.datetime.combine(day, dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60), zone)
    first, second = local.utcoffset(), local.replace(fold=1).utcoffset()
    if first < second:  # in the hour skipped when the clocks go forward
        return None
    return naive - int(first.total_seconds())


def within_opening_hours(*, resource: Resource, activity: Activity, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether start..end lies inside one of the doctor's availability rules for the activity (weekday,
    daily hours on the center's wall clock, validity dates, the rule's activities), whatever is booked
    then: the rules find_slots reads. False when the doctor does not offer the activity at all."""
    catalogue = _catalogue(
        activity=activity, resource=resource, resources=None, insurance=None, location=None, centers=None, online=False
    )
    if not catalogue.offers:
        return False
    local_start, local_end = start.astimezone(catalogue.offers[0].zone), end.astimezone(catalogue.offers[0].zone)
    day = local_start.date()
    until = _seconds(local_end.time()) + 86400 * (local_end.date() - day).days
    offers, _days = catalogue.for_days(day, day)  # the rules valid that day
    weekday = (day.weekday() + 1) % 7  # the guide counts from Sunday = 0
    return any(
        rule_start <= _seconds(local_start.time()) and until <= rule_end
        for offer in offers
        for rule_start, rule_end, _valid_from, _valid_to in offer.rules.get(weekday, ())
    )
