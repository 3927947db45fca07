"""The targets of the performance issue, computed from the measurements, and the generated part of
docs/performance.md (between its `bench:begin` and `bench:end` markers) with its latency chart
(docs/performance-latency.svg, written by hand: no plotting library is a dependency)."""

from pathlib import Path

SEARCH_CASES = ("search_one_doctor_7d", "search_any_31d", "search_full_31d")
BEGIN, END = "<!-- bench:begin (written by make bench) -->", "<!-- bench:end -->"
LABELS = {
    "GetCenters": "GetCenters (the floor)",
    "search_one_doctor_7d": "searchAvailabilities, one doctor, 7 days",
    "search_any_31d": "searchAvailabilities, any doctor, 31 days, 100 results",
    "search_full_31d": "searchAvailabilities, fully booked activity, 31 days (empty)",
    "addAppointment": "addAppointment (a different free slot each time)",
    "getAppointments": "getAppointments (a patient with appointments)",
    "KeyEntities": "KeyEntities",
    "mixed": "mixed load",
}


def find(results: dict, *, case: str, scale: str = "1M", surface: str = "REST", concurrency: int | None = None) -> dict:
    rows = results["cases"] + results["mixed"]
    concurrency = concurrency or min(results["setup"]["concurrency"])
    return next(
        r
        for r in rows
        if r["case"] == case and r["scale"] == scale and r["surface"] == surface and r["concurrency"] == concurrency
    )


def target(value: float, limit: float, at_most: bool, how: str, **detail) -> dict:
    value = round(value, 3)
    return {"value": value, "limit": limit, "met": value <= limit if at_most else value >= limit, "how": how} | detail


def floors(row: dict) -> float:
    """A row's p95 in floors: / the p95 of GetCenters (REST) measured just before it."""
    return row["p95_ms"] / row["floor"]["p95_ms"]


def median_floors(row: dict) -> float:
    """A row's p50 in floors: / the p50 of GetCenters (REST) measured just before it."""
    return row["p50_ms"] / row["floor"]["p50_ms"]


def cpu_floors(row: dict) -> float:
    """A row's CPU time per request (server and PostgreSQL) / its floor's: what the target's ratio is
    when no other machine or process takes the CPUs (latency ratios move with them)."""
    return row["cpu_ms_per_request"] / row["floor"]["cpu_ms_per_request"]


def targets(results: dict) -> dict:
    """The issue's targets, each a ratio inside this run. Every measured case is preceded by a run of
    the floor (GetCenters over REST, same concurrency) and divided by it: absolute figures, and even
    the floor's, move with the machine's load from one minute to the next."""
    low, high = min(results["setup"]["concurrency"]), max(results["setup"]["concurrency"])
    per_request = f"REST, 1 M appointments, {low} connections (one per worker: no queueing)"

    def to_floor(case: str, limit: float, what: str) -> dict:
        row = find(results, case=case)
        return target(
            floors(row), limit, True, f"p95 of {what} / p95 of GetCenters measured just before it; {per_request}",
            p95_ms=row["p95_ms"], floor_p95_ms=row["floor"]["p95_ms"],
            soap_p95_in_floors=round(floors(find(results, case=case, surface="SOAP")), 3),
            p95_ms_at_concurrency_8=find(results, case=case, concurrency=high)["p95_ms"],
            cpu_per_request_in_floors=round(cpu_floors(row), 3),
        )  # fmt: skip

    shares, cpu_shares = {}, {}
    for surface in ("REST", "SOAP"):
        row = find(results, case="mixed", surface=surface, concurrency=high)
        shares[surface] = round(row["rps"] / row["floor"]["rps"], 3)
        cpu_shares[surface] = round(1 / cpu_floors(row), 3)
    growth_10k = {
        c: round(median_floors(find(results, case=c)) / median_floors(find(results, case=c, scale="10k")), 3)
        for c in SEARCH_CASES
    }
    growth_10k_raw = {
        c: round(find(results, case=c)["p50_ms"] / find(results, case=c, scale="10k")["p50_ms"], 3)
        for c in SEARCH_CASES
    }
    measured = sorted({r["case"] for r in results["cases"] if r["scale"] == "1M"} - {"GetCenters"})
    soap = {
        c: round(median_floors(find(results, case=c, surface="SOAP")) / median_floors(find(results, case=c)), 3)
        for c in measured
    }
    floor_soap = find(results, case="GetCenters", surface="SOAP")["p50_ms"] / find(results, case="GetCenters")["p50_ms"]
    soap["GetCenters"] = round(floor_soap, 3)
    soap_cpu = {
        c: round(
            find(results, case=c, surface="SOAP")["cpu_ms_per_request"] / find(results, case=c)["cpu_ms_per_request"], 3
        )
        for c in [*measured, "GetCenters"]
    }
    soap_raw = {
        c: round(find(results, case=c, surface="SOAP")["p50_ms"] / find(results, case=c)["p50_ms"], 3)
        for c in [*measured, "GetCenters"]
    }
    found = {
        "search_any_31d_p95_vs_floor": to_floor("search_any_31d", 2.5, "searchAvailabilities any doctor 31 days"),
        "fully_booked_31d_p95_vs_floor": to_floor("search_full_31d", 3.0, "searchAvailabilities fully booked"),
        "add_appointment_p95_vs_floor": to_floor("addAppointment", 2.5, "addAppointment"),
        "key_entities_p95_vs_floor": to_floor("KeyEntities", 2.0, "KeyEntities (catalogue unchanged)"),
        "mixed_throughput_share_of_floor": target(
            min(shares.values()), 0.45, False,
            f"lower over REST and SOAP of: requests per second of the mixed load / of GetCenters (REST) measured "
            f"just before it; 1 M appointments, {high} connections",
            per_surface=shares, per_surface_by_cpu_per_request=cpu_shares,
        ),
        "growth_1m_vs_10k_latency_ratio": target(
            max(growth_10k.values()), 1.2, True,
            f"largest over the three searches of p50 at 1 M / p50 at 10 k appointments, each in floors (its p50 / "
            f"the p50 of GetCenters measured just before it); REST, {low} connections",
            per_case=growth_10k, per_case_in_ms=growth_10k_raw,
            per_case_cpu_per_request={
                c: round(find(results, case=c)["cpu_ms_per_request"]
                         / find(results, case=c, scale="10k")["cpu_ms_per_request"], 3)
                for c in SEARCH_CASES
            },
        ),
        "soap_rest_latency_ratio": target(
            max(soap.values()), 1.2, True,
            f"largest over the measured methods of p50 SOAP / p50 REST, each in floors (GetCenters's own: p50 "
            f"SOAP / p50 REST); 1 M appointments, {low} connections",
            per_case=dict(sorted(soap.items())), per_case_in_ms=dict(sorted(soap_raw.items())),
            per_case_cpu_per_request=dict(sorted(soap_cpu.items())),
        ),
    }  # fmt: skip
    if any(r["scale"] == "3M" for r in results["cases"]):
        group = {
            c: round(floors(find(results, case=c, scale="3M")) / floors(find(results, case=c)), 3)
            for c in ("search_any_31d", "addAppointment")
        }
        group_raw = {
            c: round(find(results, case=c, scale="3M")["p95_ms"] / find(results, case=c)["p95_ms"], 3)
            for c in ("search_any_31d", "addAppointment")
        }
        found["growth_3k_doctors_3m_vs_1m_p95_ratio"] = target(
            max(group.values()),
            1.5,
            True,
            f"larger over search any doctor 31 days and addAppointment of p95 at 3,000 doctors and 3 M appointments "
            f"/ p95 at 300 doctors and 1 M, each in floors; REST, {low} connections",
            per_case=group,
            per_case_in_ms=group_raw,
            per_case_cpu_per_request={
                c: round(
                    find(results, case=c, scale="3M")["cpu_ms_per_request"]
                    / find(results, case=c)["cpu_ms_per_request"],
                    3,
                )
                for c in ("search_any_31d", "addAppointment")
            },
        )
    return found


# ---------------------------------------------------------------- docs/performance.md


def table(results: dict) -> str:
    lines = [
        "| scale | case | surface | conc. | req/s | p50 ms | p95 ms | p99 ms | errors | CPU ms/req | steal % "
        "| floor before: req/s, p50, p95, CPU ms/req |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results["cases"] + results["mixed"]:
        f = r.get("floor")
        floor = f"{f['rps']:.0f}, {f['p50_ms']:.1f}, {f['p95_ms']:.1f}, {f['cpu_ms_per_request']:.2f}" if f else ""
        lines.append(
            f"| {r['scale']} | {LABELS[r['case']]} | {r['surface']} | {r['concurrency']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | "
            f"{r['cpu_ms_per_request']:.2f} | {r['steal_percent']:.0f} | {floor} |"
        )
    return "\n".join(lines)


def by_cpu(t: dict) -> float | None:
    """The target's ratio computed the same way from CPU time per request instead of latency."""
    if "cpu_per_request_in_floors" in t:
        return t["cpu_per_request_in_floors"]
    if "per_surface_by_cpu_per_request" in t:
        return min(t["per_surface_by_cpu_per_request"].values())
    if "per_case_cpu_per_request" in t:
        return max(t["per_case_cpu_per_request"].values())
    return None


def targets_table(results: dict) -> str:
    lines = ["| target | value | limit | met | same ratio by CPU per request | how |", "|---|---:|---:|---|---:|---|"]
    for name, t in results["targets"].items():
        cpu = by_cpu(t)
        lines.append(
            f"| {name} | {t['value']} | {t['limit']} | {'yes' if t['met'] else '**no**'} | "
            f"{'' if cpu is None else cpu} | {t['how']} |"
        )
    return "\n".join(lines)


def builds_table(results: dict) -> str:
    lines = [
        "| database | appointments | build s | of which COPY + indexes of appointments s | reused |",
        "|---|---:|---:|---:|---|",
    ]
    for scale, meta in results["builds"].items():
        step = meta["steps"]["appointments_appointment"]
        lines.append(
            f"| {scale} | {meta['appointments']:,} | {meta['build_seconds']} | "
            f"{step['copy_s']} + {step['indexes_s']} | {'yes' if meta.get('reused') else 'no'} |"
        )
    return "\n".join(lines)


def generated(results: dict) -> str:
    m = results["machine"]
    return "\n".join(
        [
            BEGIN,
            f"Run of {results['run_at']} (UTC), {results['run_seconds']:.0f} s in all. Machine: {m['nproc']} CPUs "
            f"({m['cpu']}), {m['memory_gib']} GiB, PostgreSQL {m['postgresql']} "
            f"(shared_buffers {m['shared_buffers']}), "
            f"Python {m['python']}, {m['wrk']}. {results['setup']['server']}; {results['setup']['driver']}; "
            f"{results['setup']['seconds_per_case']:.0f} s per case.",
            "",
            "### Targets",
            "",
            targets_table(results),
            "",
            "### Builds",
            "",
            builds_table(results),
            "",
            "### Every measurement",
            "",
            table(results),
            "",
            "![latency against appointment count](performance-latency.svg)",
            END,
        ]
    )


def chart(results: dict) -> str:
    """p50 and p95 of the three searches (REST) against the appointment count: an SVG written by hand."""
    width, height, left, right, top, bottom = 640, 360, 70, 230, 30, 50
    series = []
    colours = {"search_one_doctor_7d": "#1f77b4", "search_any_31d": "#d62728", "search_full_31d": "#2ca02c"}
    for case in SEARCH_CASES:
        for stat, dash in (("p50_ms", ""), ("p95_ms", "6,4")):
            points = [(n, find(results, case=case, scale=s)[stat]) for s, n in (("10k", 10_000), ("1M", 1_000_000))]
            series.append((case, stat, dash, points))
    top_value = max(v for *_, points in series for _, v in points) * 1.15 or 1

    def x(n):  # log scale between 10^4 and 10^6
        return left + (width - left - right) * ((len(str(n)) - 1) - 4) / 2

    def y(v):
        return top + (height - top - bottom) * (1 - v / top_value)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">searchAvailabilities latency (REST, 2 connections)</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
    ]
    for n, label in ((10_000, "10 k"), (100_000, "100 k"), (1_000_000, "1 M")):
        parts.append(f'<text x="{x(n)}" y="{height - bottom + 18}" text-anchor="middle">{label}</text>')
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">appointments (log)</text>'
    )
    for k in range(5):
        v = top_value * k / 4
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4}" text-anchor="end">{v:.0f}</text>')
        parts.append(f'<line x1="{left}" y1="{y(v)}" x2="{width - right}" y2="{y(v)}" stroke="#ddd"/>')
    parts.append(f'<text x="14" y="{top + 100}" transform="rotate(-90 14 {top + 100})">ms</text>')
    for i, (case, stat, dash, points) in enumerate(series):
        path = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in points)
        colour = colours[case]
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        parts += [f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for n, v in points]
        legend_y = top + 16 * i
        parts.append(
            f'<line x1="{width - right + 12}" y1="{legend_y}" x2="{width - right + 36}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        short = {"search_one_doctor_7d": "1 doctor 7 d", "search_any_31d": "any 31 d", "search_full_31d": "full 31 d"}
        parts.append(f'<text x="{width - right + 42}" y="{legend_y + 4}">{short[case]} {stat[:3]}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(results: dict, docs: Path) -> None:
    document = docs / "performance.md"
    text = document.read_text() if document.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    document.write_text(head + generated(results) + tail)
    (docs / "performance-latency.svg").write_text(chart(results))
