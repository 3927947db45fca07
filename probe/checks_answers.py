"""Medical results, bad input on the read methods, and the rules every answer of the run must keep."""

from __future__ import annotations

import datetime as dt

from probe import guide
from probe.guide import DATE_FIELDS, TIME_FIELDS
from probe.transport import Reply
from probe.values import slots_of, strict_date, strict_time

FAR_PAST = "01/01/2000"
CLOCK_SKEW = dt.timedelta(minutes=2)  # between the probe's clock and the target's
TRACEBACK = b"Traceback (most recent call last)"


class AnswerChecks:
    # ------------------------------------------------------------------ medical results

    def results(self) -> None:
        if {"getTestResultsList", "getTestResultContent"} & self.missing:
            for rule in ("RESULTS-LIST", "RESULTS-CONTENT"):
                self.f.warn(rule, "the endpoint does not serve medical results (guide C.2, tuOtempO VIEW)")
            return
        user = self.options.results_user
        if user is None and self.appointment:
            user = self.person["USER_TID"] if self.options.pattern == "tid" else self.appointment[1]
        if not user:
            for rule in ("RESULTS-LIST", "RESULTS-CONTENT"):
                self.f.skip(rule, "no patient to ask about: pass --results-user")
            return
        name = "USER_TID" if self.options.pattern == "tid" else "USER_LID"
        listed = self.call("getTestResultsList", {name: user, "RESULT_START_DATE": FAR_PAST})
        if not listed.ok:
            self.f.fail("RESULTS-LIST", f"getTestResultsList {name}={user}: {listed.describe()}", listed)
            self.f.skip("RESULTS-CONTENT", "getTestResultsList failed")
            return
        rows = listed.records()
        problems = self.field_problems(listed)
        for i, row in enumerate(rows, 1):
            if row.get("STATUS") not in (guide.RESULT_VALID, guide.RESULT_CANCELLED):
                problems.append(f"record {i}: STATUS {row.get('STATUS')!r} is not Valid or Cancelled")
        if problems:
            self.f.fail("RESULTS-LIST", "; ".join(problems[:3]), listed)
        elif not rows:
            hint = "" if self.options.results_user else "; pass --results-user with a patient who has results"
            for rule in ("RESULTS-LIST", "RESULTS-CONTENT"):
                self.f.warn(rule, f"{name} {user} has no result since {FAR_PAST}: nothing to read{hint}", listed)
            return
        else:
            self.f.ok("RESULTS-LIST")
        self.notes.append(f"{len(rows)} results of {name} {user}")
        valid = next((r for r in rows if r.get("STATUS") == guide.RESULT_VALID), None)
        withdrawn = next((r for r in rows if r.get("STATUS") == guide.RESULT_CANCELLED), None)
        if valid is None:
            self.f.warn("RESULTS-CONTENT", f"no Valid result of {name} {user} to read")
        else:
            self.content(valid["DOWNLOAD_LID"], guide.RESULT_VALID)
        if withdrawn is not None:
            self.content(withdrawn["DOWNLOAD_LID"], guide.RESULT_CANCELLED)

    def content(self, download_lid: str, status: str) -> None:
        reply = self.call("getTestResultContent", {"DOWNLOAD_LID": download_lid})
        if not reply.ok:
            self.f.fail("RESULTS-CONTENT", f"getTestResultContent {download_lid} ({status}): {reply.describe()}", reply)
            return
        row = reply.record()
        problems = self.field_problems(reply)
        content = row.get("DOWNLOAD_CONTENT")
        if row.get("DOWNLOAD_LID") != download_lid:
            problems.append(f"DOWNLOAD_LID is {row.get('DOWNLOAD_LID')!r}, asked {download_lid!r}")
        if row.get("STATUS") != status:
            problems.append(f"STATUS is {row.get('STATUS')!r}; getTestResultsList said {status!r}")
        if status == guide.RESULT_VALID and not content:
            problems.append(f"the Valid result {download_lid} comes without DOWNLOAD_CONTENT")
        if status == guide.RESULT_CANCELLED and content:
            problems.append(f"the withdrawn result {download_lid} still comes with its content")
        self.f.check("RESULTS-CONTENT", not problems, "; ".join(problems[:3]), reply)

    # ------------------------------------------------------------------ bad input

    def bad_input(self) -> None:
        """Unreadable values, unknown ids, a missing required parameter, on the read methods."""
        activity = self.activity or (self.activities[0] if self.activities else None)
        if activity:
            for name, value in (
                ("AVA_START_DAY", "31/02/2027"),
                ("AVA_START_DAY", "2027-13-45"),
                ("AVA_START_TIME", "25:61"),
                ("AVA_RESULTS_NUMBER", "many"),
            ):
                reply = self.call("searchAvailabilities", {"ACTIVITY_LID": activity, name: value})
                self.expect_refusal("BAD-INPUT", reply, {"INVALID_INPUT"}, f"searchAvailabilities {name}={value!r}")
        unknown = f"PROBE-NO-SUCH-{self.run_id}"
        reply = self.call("checkAppointment", {"APP_LID": unknown})
        self.expect_refusal("UNKNOWN-ID", reply, {"NOT_FOUND"}, f"checkAppointment APP_LID={unknown}")
        reply = self.call("searchAvailabilities", {"ACTIVITY_LID": unknown, "AVA_RESULTS_NUMBER": "10"})
        self.expect_refusal("UNKNOWN-ID", reply, {"NOT_FOUND"}, f"searchAvailabilities ACTIVITY_LID={unknown}")
        name = "USER_TID" if self.options.pattern == "tid" else "USER_LID"
        reply = self.call("getAppointments", {name: unknown})
        self.expect_refusal("UNKNOWN-ID", reply, {"NOT_FOUND"}, f"getAppointments {name}={unknown}")
        if "getTestResultContent" not in self.missing:
            reply = self.call("getTestResultContent", {"DOWNLOAD_LID": unknown})
            self.expect_refusal("UNKNOWN-ID", reply, {"NOT_FOUND"}, f"getTestResultContent DOWNLOAD_LID={unknown}")
        reply = self.call("checkAppointment", {})
        self.expect_refusal("MISSING-REQUIRED", reply, {"INVALID_INPUT"}, "checkAppointment without APP_LID")

    # ------------------------------------------------------------------ every answer

    def every_answer(self) -> None:
        replies = list(self.target.replies)
        wsdl = getattr(self.target, "wsdl_exchange", None)
        self.server_errors(replies, wsdl)
        self.no_store(replies)
        self.formats(replies)
        self.search_answers([r for r in replies if r.method.name == "searchAvailabilities" and r.ok])
        if self.options.surface == "rest":
            bad = [r for r in replies if r.envelope_problems]
            if bad:
                self.f.fail(
                    "REST-ENVELOPE",
                    f"{bad[0].method.name}: {bad[0].envelope_problems[0]}"
                    + (f" (and {len(bad) - 1} more answers)" if len(bad) > 1 else ""),
                    bad[0],
                )
            elif replies:
                self.f.ok("REST-ENVELOPE")
        else:
            absent: dict[str, set[str]] = {}
            for reply in replies:
                if reply.absent:
                    absent.setdefault(reply.method.name, set()).update(reply.absent)
            if absent:
                name, fields = next(iter(absent.items()))
                self.f.warn(
                    "SOAP-NULLS",
                    f"{name} leaves out {', '.join(sorted(fields))} instead of writing "
                    "xsi:nil" + (f" (and {len(absent) - 1} more methods)" if len(absent) > 1 else ""),
                    next(r for r in replies if r.method.name == name and r.absent),
                )
            elif replies:
                self.f.ok("SOAP-NULLS")
        if not self.options.read_only:
            self.write_errors([r for r in replies if r.method.write])

    def server_errors(self, replies: list[Reply], wsdl) -> None:
        failures = []
        for reply in replies:
            exchange = reply.exchange
            local = (reply.fault or "").split(":")[-1]
            if exchange.error:
                failures.append((f"{reply.method.name}: no answer ({exchange.error})", reply))
            elif TRACEBACK in exchange.body:
                failures.append((f"{reply.method.name}: the answer shows a traceback", reply))
            elif reply.fault and local.startswith("Server"):
                failures.append((f"{reply.method.name}: SOAP fault {reply.fault}: {reply.message}", reply))
            elif (exchange.status or 0) >= 500 and not reply.fault:
                failures.append((f"{reply.method.name}: HTTP {exchange.status} {reply.describe()}", reply))
        if wsdl is not None and (wsdl.status or 0) >= 500:
            failures.append((f"WSDL: HTTP {wsdl.status}", wsdl))
        if failures:
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            self.f.fail("NO-SERVER-ERROR", failures[0][0] + more, *[r for _, r in failures[:2]])
        else:
            self.f.ok("NO-SERVER-ERROR")

    def no_store(self, replies: list[Reply]) -> None:
        answered = [r for r in replies if r.exchange.status is not None]
        lacking = [r for r in answered if "no-store" not in _header(r.exchange.headers, "Cache-Control").lower()]
        if lacking:
            self.f.warn(
                "NO-STORE",
                f"{len(lacking)} of {len(answered)} answers have no Cache-Control: no-store "
                f"(first: {lacking[0].method.name})",
                lacking[0],
            )
        elif answered:
            self.f.ok("NO-STORE")

    def formats(self, replies: list[Reply]) -> None:
        for rule, names, strict, wanted in (
            ("FORMAT-DATE", DATE_FIELDS, strict_date, "dd/mm/yyyy"),
            ("FORMAT-TIME", TIME_FIELDS, strict_time, "hh:mm"),
        ):
            bad, checked = None, 0
            for reply in replies:
                for row in reply.records():
                    for name in names & set(row):
                        value = row[name]
                        if value in (None, ""):
                            continue
                        checked += 1
                        if bad is None and not strict(value):
                            bad = (f"{reply.method.name} answers {name}={value!r}, not {wanted}", reply)
            if bad:
                self.f.fail(rule, *bad)
            elif checked:
                self.f.ok(rule)

    def search_answers(self, searches: list[Reply]) -> None:
        """Order, never in the past, the same AVAILABILITY_LID for the same slot: on every search."""
        lids: dict[tuple, tuple[str, Reply]] = {}
        for reply in searches:
            slots = [s for s in slots_of(reply) if s.readable]
            keys = [s.key for s in slots]
            for i in range(1, len(keys)):
                if keys[i] < keys[i - 1]:
                    self.f.fail("SEARCH-ORDER", f"slot {i + 1} ({slots[i]}) comes after {slots[i - 1]}", reply)
                    break
            else:
                if len(keys) >= 2:
                    self.f.ok("SEARCH-ORDER")
            now = self.wall_clock(reply.exchange.sent_at) - CLOCK_SKEW
            past = [s for s in slots if s.begins < now]
            zone = self.options.time_zone or "UTC-12, the earliest clock on Earth"
            self.f.check(
                "SEARCH-NOT-PAST",
                not past,
                f"slot {past[0] if past else ''} starts before {now:%d/%m/%Y %H:%M} ({zone})",
                reply,
            )
            activity = _asked(reply, "ACTIVITY_LID")
            for slot in slots:
                key = (activity, _asked(reply, "INSURANCE_LID")) + slot.key
                if not slot.lid:
                    continue
                if key in lids and lids[key][0] != slot.lid:
                    self.f.fail(
                        "SEARCH-STABLE-LID",
                        f"{slot} is AVAILABILITY_LID {lids[key][0]!r} in one search and {slot.lid!r} in another",
                        lids[key][1],
                        reply,
                    )
                elif key in lids:
                    self.f.ok("SEARCH-STABLE-LID")
                lids.setdefault(key, (slot.lid, reply))

    def write_errors(self, writes: list[Reply]) -> None:
        checked = 0
        for reply in writes:
            if reply.ok or reply.exchange.error or reply.exchange.status == 401:
                continue
            method, record = reply.method, reply.record()
            checked += 1
            if reply.fault:
                self.f.fail(
                    "WRITE-ERRORS-IN-ANSWER",
                    f"{method.name} answered a SOAP fault ({reply.fault}: "
                    f"{reply.message}) where the guide expects {method.result_field}=ERROR",
                    reply,
                )
            elif reply.result != "ERROR":
                self.f.fail(
                    "WRITE-ERRORS-IN-ANSWER",
                    f"{method.name} failed ({reply.describe()}) without {method.result_field}=ERROR in its answer",
                    reply,
                )
            elif not record.get(method.message_field):
                self.f.fail(
                    "WRITE-ERRORS-IN-ANSWER",
                    f"{method.name}: {method.result_field}=ERROR without a message in {method.message_field}",
                    reply,
                )
            else:
                self.f.ok("WRITE-ERRORS-IN-ANSWER")
            if method.name == "CancelAppointment" and reply.result == "ERROR":
                message = str(record.get("APP_LID") or "")
                self.f.check(
                    "CANCEL-MESSAGE-LENGTH",
                    len(message) <= guide.MAX_ID_LENGTH,
                    f"CancelAppointment's message in APP_LID is {len(message)} characters: {message!r}",
                    reply,
                )
        if not checked:
            self.f.skip("WRITE-ERRORS-IN-ANSWER", "no write call failed")


def _header(headers: dict, name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def _asked(reply: Reply, name: str):
    params = reply.exchange.params
    return next((v for k, v in params.items() if k.upper() == name), None) or None
