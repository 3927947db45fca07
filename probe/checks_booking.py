"""The booking life cycle, simultaneous bookings, the reminder methods, cancelling, cleaning up.

Everything here books: it runs only without --read-only, and everything it books it cancels.
The patients it registers are plainly the probe's ("Probe Conformance ..."), with an ID number
and e-mail address of their own on every run; they stay in the hospital's records.
"""

from __future__ import annotations

import datetime as dt

from probe import guide
from probe.transport import Reply
from probe.values import Slot, ddmmyyyy, hhmm, read_date, read_time, slots_of

BOOKING_RULES = (
    "BOOK",
    "BOOK-CHECK",
    "BOOK-LIST",
    "BOOK-SLOT-TAKEN",
    "BOOK-RETRY",
    "REMINDER-BATCH",
    "BOOK-DELETE",
    "BOOK-SLOT-BACK",
)
# A timestamp before the booking whatever the hospital's zone: 15 hours before now, as a wall clock.
BEFORE_ANY_ZONE = dt.timedelta(hours=15)


class BookingChecks:
    # ------------------------------------------------------------------ patients and slots

    def someone(self, n: int) -> dict[str, str]:
        """A patient of the probe's own, new on every run."""
        person = {
            "USER_FIRST_NAME": "Probe",
            "USER_SECOND_NAME": f"Conformance {self.run_id}-{n}",
            "USER_GENDER": "F",
            "USER_DATE_OF_BIRTH": "01/01/1970",
            "USER_MOBILE_PHONE": f"+34 600 {int(self.run_id, 16) % 1000:03d} {n:03d}",
            "USER_EMAIL": f"probe-{self.run_id.lower()}-{n}@example.invalid",
            "USER_ID_NUMBER": f"PROBE-{self.run_id}-{n}",
        }
        if self.options.pattern == "tid":
            person["USER_TID"] = f"PROBE-{self.run_id}-{n}"
        return person

    def booking(self, slot: Slot, person: dict) -> dict[str, str]:
        """What tuOtempO sends: the slot by its AVAILABILITY_LID and by its fields, and the patient."""
        return {
            "AVAILABILITY_LID": slot.lid,
            "ACTIVITY_LID": self.activity,
            "RESOURCE_LID": slot.resource,
            "APP_DATE": ddmmyyyy(slot.day),
            "APP_START_TIME": hhmm(slot.start),
            **person,
        }

    def add(self, slot: Slot, person: dict) -> Reply:
        reply = self.call("addAppointment", self.booking(slot, person))
        self.keep(reply)
        return reply

    def keep(self, reply: Reply) -> None:
        """Remembers what was booked, to cancel it in the end: whatever else is wrong with the answer."""
        lid = reply.record().get("APP_LID") if reply.result == "OK" else None
        if lid and lid not in self.booked:
            self.booked[lid] = False

    def who(self, user_lid: str | None, person: dict) -> dict[str, str]:
        """How getAppointments names the patient: USER_LID, or USER_TID under the tid pattern."""
        if self.options.pattern == "tid":
            return {"USER_TID": person["USER_TID"]}
        return {"USER_LID": user_lid} if user_lid else {}

    def day_search(self, slot: Slot) -> Reply:
        return self.find(
            self.activity, RESOURCE_LID=slot.resource, AVA_START_DAY=ddmmyyyy(slot.day), AVA_END_DAY=ddmmyyyy(slot.day)
        )

    def status_of(self, app_lid: str) -> tuple[str | None, Reply]:
        reply = self.call("checkAppointment", {"APP_LID": app_lid})
        return (reply.record().get("STATUS") if reply.ok else None), reply

    # ------------------------------------------------------------------ the life cycle

    def book(self) -> None:
        """search -> addAppointment -> checkAppointment -> getAppointments -> the slot leaves the
        search -> the same booking again -> SearchAppointments."""
        if not self.slots:
            for rule in BOOKING_RULES:
                self.f.skip(rule, "no free slot was found to book")
            return
        slot = self.slots[-1]  # the latest: the least likely to start while the probe runs
        self.person = self.someone(1)
        reply = self.add(slot, self.person)
        record = reply.record()
        app_lid, user_lid = record.get("APP_LID"), record.get("USER_LID")
        problems = []
        if reply.ok:
            if not app_lid:
                problems.append("ADD_RESULT=OK without APP_LID")
            elif len(str(app_lid)) > guide.MAX_ID_LENGTH:
                problems.append(f"APP_LID is {len(str(app_lid))} characters, over nvarchar(50)")
            if not user_lid and self.options.pattern == "lid":
                problems.append("ADD_RESULT=OK without USER_LID: tuOtempO cannot name the patient next time")
            if record.get("ERROR_MESSAGE"):
                problems.append(f"ADD_RESULT=OK with ERROR_MESSAGE {record.get('ERROR_MESSAGE')!r}")
        else:
            problems.append(f"booking {slot} ({slot.lid}): {reply.describe()}")
        if not self.f.check("BOOK", not problems, "; ".join(problems), reply) or not app_lid:
            for rule in BOOKING_RULES[1:]:
                self.f.skip(rule, "the first booking failed (see BOOK)")
            return
        self.notes.append(f"booked {slot} as APP_LID {app_lid} for USER_LID {user_lid}")
        self.appointment = (app_lid, user_lid, slot)
        self.check_booked(app_lid, user_lid, slot)
        self.listed(app_lid, user_lid, slot)
        taken = self.day_search(slot)
        if taken.ok:
            still = [s for s in slots_of(taken) if s.key == slot.key]
            self.f.check("BOOK-SLOT-TAKEN", not still, f"{slot} is still offered after APP_LID {app_lid}", taken)
        else:
            self.f.fail("BOOK-SLOT-TAKEN", f"searching {slot} again: {taken.describe()}", taken)
        self.retry(app_lid, user_lid, slot)
        self.reminders(app_lid, user_lid, slot)

    def check_booked(self, app_lid: str, user_lid: str | None, slot: Slot) -> None:
        status, reply = self.status_of(app_lid)
        if not reply.ok:
            self.f.fail("BOOK-CHECK", f"checkAppointment {app_lid}: {reply.describe()}", reply)
            return
        row = reply.record()
        problems = self.field_problems(reply)
        expected = {
            "APP_LID": app_lid,
            "STATUS": guide.STATUS_CONFIRMED,
            "RESOURCE_LID": slot.resource,
            "ACTIVITY_LID": self.activity,
        }
        if self.options.pattern == "lid" and user_lid:
            expected["USER_LID"] = user_lid
        for name, value in expected.items():
            if row.get(name) != value:
                problems.append(f"{name} is {row.get(name)!r}, not {value!r}")
        if read_date(row.get("APP_DATE")) != slot.day or read_time(row.get("APP_START_TIME")) != slot.start:
            problems.append(f"APP_DATE/APP_START_TIME {row.get('APP_DATE')} {row.get('APP_START_TIME')}, not {slot}")
        end = read_time(row.get("APP_END_TIME"))
        if end and slot.end and end != slot.end:
            problems.append(f"APP_END_TIME {row.get('APP_END_TIME')}, the slot ends {hhmm(slot.end)}")
        self.f.check("BOOK-CHECK", not problems, "; ".join(problems[:3]), reply)

    def listed(self, app_lid: str, user_lid: str | None, slot: Slot) -> None:
        patient = self.who(user_lid, self.person)
        if not patient:
            self.f.skip("BOOK-LIST", "addAppointment gave no USER_LID to ask about")
            return
        plain = self.appointments_of(patient, app_lid, guide.STATUS_CONFIRMED, "getAppointments")
        since = (dt.datetime.now(dt.UTC) - BEFORE_ANY_ZONE).strftime("%d/%m/%Y %H:%M")
        self.appointments_of(
            patient | {"LAST_REQUEST_TIMESTAMP": since},
            app_lid,
            guide.STATUS_CONFIRMED,
            f"getAppointments since {since}",
        )
        day = ddmmyyyy(slot.day)
        self.appointments_of(
            patient | {"START_DATE": day, "END_DATE": day}, app_lid, guide.STATUS_CONFIRMED, f"getAppointments on {day}"
        )
        empty = self.call(
            "getAppointments",
            patient | dict.fromkeys(("START_DATE", "END_DATE", "RESOURCE_LID", "LAST_REQUEST_TIMESTAMP"), ""),
        )
        if plain is not None:
            if empty.ok:
                same = {r.get("APP_LID") for r in empty.records()} == {r.get("APP_LID") for r in plain.records()}
                self.f.check(
                    "EMPTY-OPTIONAL",
                    same,
                    "getAppointments with empty optional fields lists other appointments than without them",
                    empty,
                )
            else:
                self.f.fail("EMPTY-OPTIONAL", f"getAppointments with empty optional fields: {empty.describe()}", empty)

    def appointments_of(self, params: dict, app_lid: str, status: str, how: str) -> Reply | None:
        reply = self.call("getAppointments", params)
        if not reply.ok:
            self.f.fail("BOOK-LIST", f"{how}: {reply.describe()}", reply)
            return None
        problems = self.field_problems(reply)
        rows = [r for r in reply.records() if r.get("APP_LID") == app_lid]
        if not rows:
            problems.append(f"{how} does not list APP_LID {app_lid}")
        elif rows[0].get("STATUS") != status:
            problems.append(f"{how} lists APP_LID {app_lid} as {rows[0].get('STATUS')!r}, not {status!r}")
        keys = [
            (read_date(r.get("APP_DATE")), read_time(r.get("APP_START_TIME")), str(r.get("RESOURCE_LID")))
            for r in reply.records()
        ]
        readable = [k for k in keys if k[0] and k[1]]
        if readable != sorted(readable):
            problems.append(f"{how}: appointments are not in order of date, time, RESOURCE_LID")
        self.f.check("BOOK-LIST", not problems, "; ".join(problems[:3]), reply)
        return reply

    def retry(self, app_lid: str, user_lid: str | None, slot: Slot) -> None:
        again = self.add(slot, self.person)
        second = again.record().get("APP_LID")
        if not again.ok:
            self.f.fail("BOOK-RETRY", f"the same booking sent again: {again.describe()}", again)
            return
        if second != app_lid:
            self.f.fail("BOOK-RETRY", f"the same booking sent again gave APP_LID {second}, not {app_lid}", again)
            return
        patient = self.who(user_lid, self.person)
        listed = self.call("getAppointments", patient) if patient else None
        if listed is not None and listed.ok:
            at_slot = [
                r
                for r in listed.records()
                if read_date(r.get("APP_DATE")) == slot.day
                and read_time(r.get("APP_START_TIME")) == slot.start
                and r.get("RESOURCE_LID") == slot.resource
                and r.get("STATUS") != guide.STATUS_CANCELLED
            ]
            self.f.check(
                "BOOK-RETRY",
                len(at_slot) == 1,
                f"after the retry the patient holds {len(at_slot)} appointments at {slot}",
                listed,
            )
        else:
            self.f.ok("BOOK-RETRY")

    def reminders(self, app_lid: str, user_lid: str | None, slot: Slot) -> None:
        day = ddmmyyyy(slot.day)
        batch = self.call("SearchAppointments", {"START_DATE": day, "END_DATE": day})
        if batch.ok:
            problems = self.field_problems(batch)
            rows = [r for r in batch.records() if r.get("APP_LID") == app_lid]
            if not rows:
                problems.append(f"the batch of {day} does not list APP_LID {app_lid}")
            elif user_lid and rows[0].get("USER_LID") != user_lid:
                problems.append(
                    f"the batch gives APP_LID {app_lid} USER_LID {rows[0].get('USER_LID')!r}, not {user_lid!r}"
                )
            self.f.check("REMINDER-BATCH", not problems, "; ".join(problems[:3]), batch)
        else:
            self.f.fail("REMINDER-BATCH", f"SearchAppointments of {day} without USER_LID: {batch.describe()}", batch)
        if user_lid:
            mine = self.call("SearchAppointments", {"USER_LID": user_lid})
            found = mine.ok and any(r.get("APP_LID") == app_lid for r in mine.records())
            self.f.check(
                "REMINDER-BATCH",
                found,
                f"SearchAppointments USER_LID {user_lid}: "
                + ("does not list " + app_lid if mine.ok else mine.describe()),
                mine,
            )
        too_long = ddmmyyyy(slot.day + dt.timedelta(days=guide.REMINDER_WINDOW_DAYS + 9))
        wide = self.call("SearchAppointments", {"START_DATE": day, "END_DATE": too_long})
        self.expect_refusal(
            "REMINDER-BATCH",
            wide,
            {"INVALID_INPUT"},
            f"SearchAppointments {day} to {too_long} without USER_LID (over 31 days)",
        )

    # ------------------------------------------------------------------ simultaneous bookings

    def book_together(self) -> None:
        if len(self.slots) < 2:
            self.f.skip("BOOK-CONCURRENT", "no second free slot was found")
            return
        slot = self.slots[-2]
        people = [self.someone(10 + i) for i in range(self.options.concurrent)]
        replies = self.target.call_together("addAppointment", [self.booking(slot, p) for p in people])
        winners = []
        for reply, person in zip(replies, people, strict=True):
            self.keep(reply)
            if reply.ok:
                winners.append((reply, person))
        self.winner = winners[0] if winners else None
        if len(winners) == 1:
            self.f.ok("BOOK-CONCURRENT")
            self.notes.append(f"{len(people)} simultaneous bookings of {slot}: one won")
        elif not winners:
            self.f.fail(
                "BOOK-CONCURRENT",
                f"none of {len(people)} simultaneous bookings of {slot} answered OK: " + replies[0].describe(),
                replies[0],
            )
        else:
            lids = ", ".join(str(r.record().get("APP_LID")) for r, _ in winners)
            self.f.fail(
                "BOOK-CONCURRENT",
                f"{len(winners)} of {len(people)} simultaneous bookings of {slot} answered OK (APP_LID {lids})",
                *[r for r, _ in winners],
            )

    # ------------------------------------------------------------------ cancelling

    def cancel_by_patient(self) -> None:
        booked = self.appointment
        if booked is None:
            self.f.skip("CANCEL-PATIENT", "nothing was booked")
            return
        app_lid, user_lid, slot = booked
        winner = self.winner
        other = (winner[0].record().get("USER_LID") if winner else None) or f"PROBE-NOBODY-{self.run_id}"
        if other == user_lid:
            other = f"PROBE-NOBODY-{self.run_id}"
        wrong = self.call("CancelAppointment", {"APP_LID": app_lid, "USER_LID": other})
        status, check = self.status_of(app_lid)
        if wrong.ok:
            self.booked[app_lid] = True
            self.f.fail(
                "CANCEL-PATIENT", f"CancelAppointment of {app_lid} for another patient ({other}) answered OK", wrong
            )
        elif status != guide.STATUS_CONFIRMED:
            self.f.fail(
                "CANCEL-PATIENT",
                f"after a refused CancelAppointment for another patient, {app_lid} is {status!r}",
                check,
            )
        else:
            self.f.ok("CANCEL-PATIENT")
        if not winner:
            return
        won, person = winner
        lid, owner = won.record().get("APP_LID"), won.record().get("USER_LID")
        if not owner:
            return
        right = self.call("CancelAppointment", {"APP_LID": lid, "USER_LID": owner})
        record = right.record()
        if right.ok:
            self.booked[lid] = True
        problems = []
        if not right.ok:
            problems.append(f"CancelAppointment of {lid} by its own patient {owner}: {right.describe()}")
        else:
            if record.get("DELETE_RESULT") not in (None, "OK"):
                problems.append(f"RESULT=OK but DELETE_RESULT={record.get('DELETE_RESULT')!r}")
            status, check = self.status_of(lid)
            if status != guide.STATUS_CANCELLED:
                problems.append(f"after CancelAppointment, checkAppointment {lid} gives STATUS {status!r}")
        self.f.check("CANCEL-PATIENT", not problems, "; ".join(problems), right)

    def delete(self) -> None:
        booked = self.appointment
        if booked is None:
            return
        app_lid, user_lid, slot = booked
        reply = self.call("deleteAppointment", {"APP_LID": app_lid})
        if not reply.ok:
            self.f.fail("BOOK-DELETE", f"deleteAppointment {app_lid}: {reply.describe()}", reply)
            self.f.skip("BOOK-SLOT-BACK", "the appointment could not be deleted")
            return
        self.booked[app_lid] = True
        status, check = self.status_of(app_lid)
        self.f.check(
            "BOOK-DELETE",
            status == guide.STATUS_CANCELLED,
            f"after deleteAppointment, checkAppointment {app_lid} gives STATUS {status!r}",
            check,
        )
        patient = self.who(user_lid, self.person)
        if patient:
            self.appointments_of(patient, app_lid, guide.STATUS_CANCELLED, "getAppointments after deleteAppointment")
        again = self.call("deleteAppointment", {"APP_LID": app_lid})
        self.f.check(
            "BOOK-DELETE", again.ok, f"deleteAppointment of the cancelled {app_lid}: {again.describe()}", again
        )
        back = self.day_search(slot)
        if back.ok:
            offered = [s for s in slots_of(back) if s.key == slot.key]
            self.f.check("BOOK-SLOT-BACK", bool(offered), f"{slot} is not offered again after deleteAppointment", back)
        else:
            self.f.fail("BOOK-SLOT-BACK", f"searching {slot} again: {back.describe()}", back)

    def bad_writes(self) -> None:
        """Refusals that book nothing: a bad date, an unreadable slot, unknown ids, a missing APP_LID."""
        slot = self.slots[0] if self.slots else None
        person = self.someone(99)
        if slot is not None:
            bad_day = f"31/02/{slot.day.year + 1}"
            reply = self.call(
                "addAppointment",
                {
                    "RESOURCE_LID": slot.resource,
                    "ACTIVITY_LID": self.activity,
                    "APP_DATE": bad_day,
                    "APP_START_TIME": hhmm(slot.start),
                    **person,
                },
            )
            self.expect_refusal("BAD-INPUT", reply, {"INVALID_INPUT"}, f"addAppointment APP_DATE={bad_day}")
            self.keep(reply)
        reply = self.call("addAppointment", {"AVAILABILITY_LID": f"PROBE-NOT-A-SLOT-{self.run_id}", **person})
        self.expect_refusal(
            "BAD-INPUT", reply, {"INVALID_INPUT", "NOT_FOUND"}, "addAppointment of an unreadable AVAILABILITY_LID"
        )
        self.keep(reply)
        unknown = f"PROBE-NO-SUCH-APP-{self.run_id}"
        reply = self.call("deleteAppointment", {"APP_LID": unknown})
        self.expect_refusal("UNKNOWN-ID", reply, {"NOT_FOUND"}, f"deleteAppointment APP_LID={unknown}")
        patient = (self.appointment or (None, None, None))[1] or f"PROBE-NOBODY-{self.run_id}"
        reply = self.call("CancelAppointment", {"APP_LID": unknown, "USER_LID": patient})
        self.expect_refusal("UNKNOWN-ID", reply, {"NOT_FOUND"}, f"CancelAppointment APP_LID={unknown}")
        reply = self.call("deleteAppointment", {})
        self.expect_refusal("MISSING-REQUIRED", reply, {"INVALID_INPUT"}, "deleteAppointment without APP_LID")

    def cleanup(self) -> None:
        for app_lid, cancelled in list(self.booked.items()):
            if not cancelled:
                reply = self.call("deleteAppointment", {"APP_LID": app_lid})
                self.booked[app_lid] = reply.ok
        left = [lid for lid, cancelled in self.booked.items() if not cancelled]
        if not self.booked:
            self.f.skip("CLEANUP", "nothing was booked")
        elif left:
            self.f.warn("CLEANUP", f"could not cancel APP_LID {', '.join(left)}: cancel them at the desk")
        else:
            self.f.ok("CLEANUP")
            self.notes.append(f"cancelled everything it booked: APP_LID {', '.join(self.booked)}")

    # ------------------------------------------------------------------ refusals

    def expect_refusal(self, rule: str, reply: Reply, codes: set[str], how: str) -> None:
        """Refused, with one of the contract's codes when the answer carries one."""
        if reply.ok:
            self.f.fail(rule, f"{how} was accepted: {reply.describe()}", reply)
        elif not reply.refused:
            self.f.fail(rule, f"{how}: {reply.describe()}", reply)
        elif reply.fault and reply.method.write:
            self.f.ok(rule)  # refused; a fault where the guide wants ..._RESULT=ERROR is WRITE-ERRORS-IN-ANSWER's
        elif reply.code and reply.code not in codes:
            self.f.fail(rule, f"{how} was refused as {reply.code}, not {' or '.join(sorted(codes))}", reply)
        else:
            self.f.ok(rule)
