"""What the probe found: observations per rule, turned into one verdict per rule, and the report
as text, JSON and JUnit XML."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from probe.rules import BY_ID, FAIL, RULES, WARN, Rule
from probe.transport import Exchange, Reply

PASS, SKIP = "PASS", "SKIP"
ORDER = {FAIL: 3, WARN: 2, PASS: 1, SKIP: 0}
MAX_SHOWN = 2  # exchanges shown per failing rule
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass
class Observation:
    status: str
    reason: str = ""
    exchanges: list[Exchange] = field(default_factory=list)


class Findings:
    """Observations as the checks make them; a rule may be observed many times."""

    def __init__(self) -> None:
        self.observations: dict[str, list[Observation]] = defaultdict(list)

    def _add(self, rule_id: str, status: str, reason: str, replies: tuple) -> None:
        rule = BY_ID[rule_id]  # a KeyError here is a typo in a check
        if status == FAIL and rule.severity == WARN:
            status = WARN
        exchanges = [r.exchange if isinstance(r, Reply) else r for r in replies if r is not None]
        self.observations[rule.id].append(Observation(status, reason, exchanges))

    def ok(self, rule_id: str) -> None:
        self._add(rule_id, PASS, "", ())

    def fail(self, rule_id: str, reason: str, *replies: Reply | Exchange | None) -> None:
        self._add(rule_id, FAIL, reason, replies)

    def warn(self, rule_id: str, reason: str, *replies: Reply | Exchange | None) -> None:
        self._add(rule_id, WARN, reason, replies)

    def skip(self, rule_id: str, reason: str) -> None:
        self._add(rule_id, SKIP, reason, ())

    def check(self, rule_id: str, holds: bool, reason: str, *replies: Reply | Exchange | None) -> bool:
        if holds:
            self.ok(rule_id)
        else:
            self.fail(rule_id, reason, *replies)
        return holds

    def observed(self, rule_id: str) -> bool:
        return bool(self.observations.get(rule_id))

    def failed(self, rule_id: str) -> bool:
        return any(o.status in (FAIL, WARN) for o in self.observations.get(rule_id, ()))


@dataclass
class Verdict:
    rule: Rule
    status: str
    reason: str
    exchanges: list[Exchange]
    more: int = 0  # further failing observations not shown

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule.id,
            "status": self.status,
            "title": self.rule.title,
            "guide": self.rule.guide,
            "contract": self.rule.contract,
            "reason": self.reason,
            "more": self.more,
            "exchanges": [{"request": e.request_line(), "answer": e.excerpt(2000)} for e in self.exchanges],
        }


def verdicts(findings: Findings, rules: tuple[Rule, ...] = RULES) -> list[Verdict]:
    result = []
    for rule in rules:
        seen = findings.observations.get(rule.id, [])
        if not seen:
            result.append(Verdict(rule, SKIP, "not checked", []))
            continue
        worst = max(seen, key=lambda o: ORDER[o.status]).status
        if worst == PASS:
            result.append(Verdict(rule, PASS, "", []))
            continue
        if worst == SKIP:
            result.append(Verdict(rule, SKIP, seen[0].reason, []))
            continue
        bad = [o for o in seen if o.status == worst]
        exchanges = [e for o in bad for e in o.exchanges][:MAX_SHOWN]
        result.append(Verdict(rule, worst, bad[0].reason, exchanges, more=len(bad) - 1))
    return result


@dataclass
class Report:
    url: str
    surface: str
    started: dt.datetime
    seconds: float
    calls: int
    verdicts: list[Verdict]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the probe's own failures

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def passed(self) -> bool:
        """Nothing failed (the exit status is 0)."""
        return self.count(FAIL) == 0 and not self.errors

    def verdict(self, rule_id: str) -> Verdict:
        return next(v for v in self.verdicts if v.rule.id == rule_id)

    def other_surface(self) -> str:
        return "REST" if self.surface == "soap" else "SOAP"

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in (PASS, WARN, FAIL, SKIP))
        return f"{len(self.verdicts)} rules: {counts} — {self.calls} calls in {self.seconds:.1f} s"

    def text(self) -> str:
        lines = [
            f"tuOtempO conformance probe: {self.surface.upper()} {self.url} "
            f"({self.started.strftime('%d/%m/%Y %H:%M')} UTC)",
            *[f"  {note}" for note in self.notes],
            "",
        ]
        other_surface = [v.rule.id for v in self.verdicts if v.rule.surface not in (None, self.surface)]
        for v in self.verdicts:
            if v.rule.id in other_surface:
                continue
            head = f"{v.status:<5} {v.rule.id:<23} {v.rule.title}"
            if v.status == SKIP:
                lines.append(f"{head} [{v.reason}]")
                continue
            lines.append(head)
            if v.status == PASS:
                continue
            more = f" (and {v.more} more)" if v.more else ""
            lines.append(f"        why:     {v.reason}{more}")
            lines.append(f"        breaks:  {v.rule.source}")
            for exchange in v.exchanges:
                lines.append(f"        request: {exchange.request_line()}")
                lines.append(f"        answer:  {exchange.excerpt()}")
        if other_surface:
            lines.append(f"SKIP  {', '.join(other_surface)} [{self.other_surface()} only]")
        for error in self.errors:
            lines.append(f"ERROR the probe could not finish a step: {error}")
        lines += ["", self.summary(), ""]
        return "\n".join(_clean(line) for line in lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "surface": self.surface,
            "started": self.started.isoformat(),
            "seconds": round(self.seconds, 3),
            "calls": self.calls,
            "passed": self.passed,
            "counts": {s: self.count(s) for s in (PASS, WARN, FAIL, SKIP)},
            "notes": self.notes,
            "errors": self.errors,
            "rules": [v.as_dict() for v in self.verdicts],
        }

    def junit(self) -> str:
        suite = ET.Element(
            "testsuite",
            name=f"tuotempo_probe.{self.surface}",
            tests=str(len(self.verdicts)),
            failures=str(self.count(FAIL)),
            errors=str(len(self.errors)),
            skipped=str(self.count(SKIP)),
            time=f"{self.seconds:.3f}",
            timestamp=self.started.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        for v in self.verdicts:
            case = ET.SubElement(
                suite, "testcase", classname=f"tuotempo_probe.{self.surface}", name=f"{v.rule.id}: {v.rule.title}"
            )
            details = "\n".join(
                [f"breaks: {v.rule.source}"]
                + [f"request: {e.request_line()}\nanswer: {e.excerpt(2000)}" for e in v.exchanges]
            )
            if v.status == FAIL:
                ET.SubElement(case, "failure", message=_clean(v.reason), type="FAIL").text = _clean(details)
            elif v.status == SKIP:
                ET.SubElement(case, "skipped", message=_clean(v.reason))
            elif v.status == WARN:
                ET.SubElement(case, "system-out").text = _clean(f"WARN: {v.reason}\n{details}")
        for error in self.errors:
            case = ET.SubElement(suite, "testcase", classname=f"tuotempo_probe.{self.surface}", name="probe")
            ET.SubElement(case, "error", message=_clean(error))
        ET.indent(suite)
        return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _clean(text: str) -> str:
    """What an endpoint answered is shown, never obeyed: no terminal control sequences, and
    nothing XML 1.0 cannot carry in the JUnit file."""
    return _CONTROL.sub("?", text)
