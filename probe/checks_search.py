"""searchAvailabilities: fields, limit, order, window, defaults, band, empty optional fields."""

from __future__ import annotations

import datetime as dt

from probe import guide
from probe.transport import Reply
from probe.values import Slot, ddmmyyyy, hhmm, in_order, slots_of

MAX_ACTIVITIES_TRIED = 8
SEARCH_RESULTS = 100


class SearchChecks:
    def search(self) -> None:
        """searchAvailabilities: fields, limit, order, window, defaults, band, empty optional fields."""
        if not self.activities:
            for rule in ("SEARCH-FIELDS", "SEARCH-LIMIT", "SEARCH-WINDOW", "SEARCH-DEFAULTS", "SEARCH-BAND"):
                self.f.skip(rule, "no activity to search: KeyEntities gave none")
            return
        first = self.today() + dt.timedelta(days=1)
        last = first + dt.timedelta(days=self.options.days - 1)
        window = {"AVA_START_DAY": ddmmyyyy(first), "AVA_END_DAY": ddmmyyyy(last)}
        best: tuple[str, Reply, list[Slot]] | None = None
        tried = []
        for activity in self.activities[:MAX_ACTIVITIES_TRIED]:
            tried.append(activity)
            reply = self.find(activity, **window)
            if not reply.ok:
                continue
            slots = in_order(slots_of(reply))
            if best is None or len(slots) > len(best[2]):
                best = (activity, reply, slots)
            if len(slots) >= 4:
                break
        if best is None or not best[2]:
            reason = f"no free slot from {ddmmyyyy(first)} to {ddmmyyyy(last)} for {', '.join(tried)}"
            for rule in ("SEARCH-LIMIT", "SEARCH-WINDOW", "SEARCH-DEFAULTS", "SEARCH-BAND", "EMPTY-OPTIONAL"):
                self.f.skip(rule, reason)
            self.notes.append(f"searchAvailabilities: {reason}")
            return
        self.activity, full, self.slots = best
        counts: dict[str, int] = {}
        for slot in self.slots:
            counts[slot.resource] = counts.get(slot.resource, 0) + 1
        self.resource = max(counts, key=lambda r: (counts[r], r))
        self.notes.append(
            f"searched ACTIVITY_LID {self.activity} from {ddmmyyyy(first)} to {ddmmyyyy(last)}: "
            f"{len(self.slots)} slots; RESOURCE_LID {self.resource} for the narrower searches"
        )

        # One doctor's slots: one center, one time zone, so "earliest" is plain to see.
        mine = self.find(self.activity, RESOURCE_LID=self.resource, **window)
        own = in_order(slots_of(mine)) if mine.ok else []
        self.limit(own, window)
        if len(own) >= 2:
            self.search_window(own)
            self.band(own, window)
        else:
            self.f.skip("SEARCH-WINDOW", f"RESOURCE_LID {self.resource} has fewer than 2 slots")
            self.f.skip("SEARCH-BAND", f"RESOURCE_LID {self.resource} has fewer than 2 slots")
        self.defaults(own)
        self.find(self.activity, AVA_START_DAY=ddmmyyyy(self.today()), AVA_END_DAY=ddmmyyyy(self.today()))

        # What a tolerant client sends: every optional parameter, empty.
        empty = dict.fromkeys(
            (
                "RESOURCE_LID",
                "INSURANCE_LID",
                "LOCATION_LID",
                "AVA_START_TIME",
                "AVA_END_TIME",
                "AVA_MIN_TIME",
                "AVA_MAX_TIME",
            ),
            "",
        )
        if not self.options.center:
            empty["CENTER_LID"] = ""
        tolerant = self.find(self.activity, **window, **empty)
        self.same_slots("EMPTY-OPTIONAL", tolerant, full, "optional parameters sent empty")

        if self.options.surface == "rest":
            guide_spelling = self.call(
                "searchAvailabilities",
                {"ACTIVITY_LID": self.activity, "AVA_RESULTS_NUMBER": str(SEARCH_RESULTS), **window},
                upper=True,
                path="searchAvailabilities",
            )
            self.same_slots("REST-GUIDE-SPELLING", guide_spelling, full, "UPPER_SNAKE names at /searchAvailabilities")
            centers = self.call("GetCenters", path="GetCenters")
            self.f.check("REST-GUIDE-SPELLING", centers.ok, f"GET .../GetCenters: {centers.describe()}", centers)

    def find(self, activity: str, **params) -> Reply:
        params.setdefault("AVA_RESULTS_NUMBER", str(SEARCH_RESULTS))
        reply = self.call("searchAvailabilities", {"ACTIVITY_LID": activity, **params})
        if reply.ok:
            self.search_fields(reply, activity)
        elif not reply.missing_operation:
            self.f.fail("SEARCH-FIELDS", f"searchAvailabilities for ACTIVITY_LID {activity}: {reply.describe()}", reply)
        return reply

    def search_fields(self, reply: Reply, activity: str) -> None:
        problems = self.field_problems(reply)
        for i, row in enumerate(reply.records(), 1):
            lid = row.get("AVAILABILITY_LID")
            if row.get("ACTIVITY_LID") not in (None, "", activity):
                problems.append(f"slot {i} has ACTIVITY_LID {row.get('ACTIVITY_LID')!r}, asked {activity!r}")
            if not lid:
                problems.append(f"slot {i} has no AVAILABILITY_LID: addAppointment cannot name it")
            elif len(str(lid)) > guide.MAX_ID_LENGTH:
                problems.append(f"slot {i}: AVAILABILITY_LID is {len(str(lid))} characters, over nvarchar(50)")
            slot = Slot.of(row)
            if slot.readable and slot.end and slot.end <= slot.start:
                problems.append(f"slot {i} ({slot}) ends at {row.get('AVA_END_TIME')}, not after it starts")
        self.f.check("SEARCH-FIELDS", not problems, "; ".join(problems[:3]), reply)

    def limit(self, own: list[Slot], window: dict) -> None:
        for number in (3, 1):
            reply = self.find(self.activity, RESOURCE_LID=self.resource, AVA_RESULTS_NUMBER=str(number), **window)
            if not reply.ok:
                self.f.fail("SEARCH-LIMIT", f"AVA_RESULTS_NUMBER={number}: {reply.describe()}", reply)
                continue
            got = slots_of(reply)
            if len(got) > number:
                self.f.fail("SEARCH-LIMIT", f"AVA_RESULTS_NUMBER={number} answered {len(got)} slots", reply)
                continue
            expected = [s.key for s in own[:number]]
            if len(own) >= number and sorted(s.key for s in in_order(got)) != expected:
                shown = ", ".join(str(s) for s in got) or "nothing"
                self.f.fail(
                    "SEARCH-LIMIT",
                    f"AVA_RESULTS_NUMBER={number} answered {shown}; the earliest are "
                    + ", ".join(str(s) for s in own[:number]),
                    reply,
                )
                continue
            self.f.ok("SEARCH-LIMIT")

    def search_window(self, own: list[Slot]) -> None:
        """From the second slot's start to the end of a slot two days on: both edges included."""
        begin = own[1]
        last_day = begin.day + dt.timedelta(days=2)
        end = [s for s in own if s.day <= last_day][-1]
        if end.ends <= begin.begins:
            self.f.skip("SEARCH-WINDOW", "not enough slots to draw a window")
            return
        end_time = end.ends.time()
        params = {
            "AVA_START_DAY": ddmmyyyy(begin.day),
            "AVA_START_TIME": hhmm(begin.start),
            "AVA_END_DAY": ddmmyyyy(end.ends.date()),
            "AVA_END_TIME": hhmm(end_time),
        }
        reply = self.find(self.activity, RESOURCE_LID=self.resource, **params)
        if not reply.ok:
            self.f.fail("SEARCH-WINDOW", f"{reply.describe()}", reply)
            return
        lower, upper = begin.begins, end.ends
        got = [s for s in slots_of(reply) if s.readable]
        outside = [s for s in got if s.begins < lower or s.ends > upper]
        expected = [s for s in own if s.begins >= lower and s.ends <= upper]
        left_out = [s for s in expected if s.key not in {g.key for g in got}]
        window = f"{ddmmyyyy(begin.day)} {hhmm(begin.start)} to {ddmmyyyy(end.ends.date())} {hhmm(end_time)}"
        if outside:
            self.f.fail("SEARCH-WINDOW", f"window {window}: slot {outside[0]} is outside it", reply)
        elif left_out:
            self.f.fail("SEARCH-WINDOW", f"window {window}: slot {left_out[0]} is inside it but was left out", reply)
        else:
            self.f.ok("SEARCH-WINDOW")

    def band(self, own: list[Slot], window: dict) -> None:
        by_day: dict[dt.date, list[Slot]] = {}
        for slot in own:
            by_day.setdefault(slot.day, []).append(slot)
        day = next((d for d, s in by_day.items() if len(s) >= 3), own[0].day)
        those = by_day[day]
        low = those[1].start if len(those) >= 3 else those[0].start
        high = (those[-2] if len(those) >= 3 else those[0]).ends.time()
        if high <= low:
            self.f.skip("SEARCH-BAND", "not enough slots in a day to draw a band")
            return
        reply = self.find(
            self.activity, RESOURCE_LID=self.resource, AVA_MIN_TIME=hhmm(low), AVA_MAX_TIME=hhmm(high), **window
        )
        if not reply.ok:
            self.f.fail("SEARCH-BAND", reply.describe(), reply)
            return
        got = [s for s in slots_of(reply) if s.readable]

        def inside(s: Slot) -> bool:
            return s.start >= low and s.ends.time() <= high and s.ends.date() == s.day

        outside = [s for s in got if not inside(s)]
        left_out = [s for s in own if inside(s) and s.key not in {g.key for g in got}]
        band = f"AVA_MIN_TIME {hhmm(low)}, AVA_MAX_TIME {hhmm(high)}"
        if outside:
            self.f.fail("SEARCH-BAND", f"{band}: slot {outside[0]} is outside the band", reply)
        elif left_out:
            self.f.fail("SEARCH-BAND", f"{band}: slot {left_out[0]} is inside the band but was left out", reply)
        else:
            self.f.ok("SEARCH-BAND")

    def defaults(self, own: list[Slot]) -> None:
        reply = self.find(self.activity, RESOURCE_LID=self.resource)
        if not reply.ok:
            self.f.fail("SEARCH-DEFAULTS", f"no AVA_START_DAY, AVA_END_DAY: {reply.describe()}", reply)
            return
        # Today as it was when the search was sent, and as it was when the answer came (midnight...).
        sent = reply.exchange.sent_at
        today = self.wall_clock(sent).date() if self.zone else sent.date()
        answered = sent + dt.timedelta(seconds=reply.exchange.seconds)
        today_after = self.wall_clock(answered).date() if self.zone else answered.date()
        slack = dt.timedelta(days=0 if self.zone else 1)  # without the hospital's zone, its today is ±1 day
        first, last = today - slack, today_after + dt.timedelta(days=7) + slack
        got = [s for s in slots_of(reply) if s.readable]
        outside = [s for s in got if not first <= s.day <= last]
        sure_inside = [s for s in own if s.day <= today + dt.timedelta(days=7) - slack]
        left_out = [s for s in sure_inside if s.key not in {g.key for g in got}]
        if outside:
            self.f.fail(
                "SEARCH-DEFAULTS",
                f"without dates, slot {outside[0]} is outside today ({ddmmyyyy(today)}) to today + 7 days",
                reply,
            )
        elif left_out and len(got) < SEARCH_RESULTS:
            self.f.fail(
                "SEARCH-DEFAULTS", f"without dates, slot {left_out[0]} (within today + 7 days) was left out", reply
            )
        else:
            self.f.ok("SEARCH-DEFAULTS")

    def same_slots(self, rule: str, reply: Reply, reference: Reply, how: str) -> None:
        if not reply.ok:
            self.f.fail(rule, f"{how}: {reply.describe()}", reply)
            return
        got, expected = {s.key for s in slots_of(reply)}, {s.key for s in slots_of(reference)}
        self.f.check(
            rule,
            got == expected,
            f"{how}: {len(got)} slots instead of the {len(expected)} found without them",
            reply,
        )
