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


def targets(results: dict) -> dict:
    """The issue's targets, each a ratio inside this run (absolute figures move with the machine's load)."""
    low, high = min(results["setup"]["concurrency"]), max(results["setup"]["concurrency"])
    floor_p95 = find(results, case="GetCenters")["p95_ms"]
    per_request = f"REST, 1 M appointments, {low} connections (one per worker: no queueing)"

    def to_floor(case: str, limit: float, what: str) -> dict:
        p95 = find(results, case=case)["p95_ms"]
        return target(
            p95 / floor_p95, limit, True, f"p95 of {what} / p95 of GetCenters; {per_request}",
            p95_ms=p95, floor_p95_ms=floor_p95,
            soap_p95_ms=find(results, case=case, surface="SOAP")["p95_ms"],
            p95_ms_at_concurrency_8=find(results, case=case, concurrency=high)["p95_ms"],
        )  # fmt: skip

    shares = {
        surface: round(
            find(results, case="mixed", surface=surface, concurrency=high)["rps"]
            / find(results, case="GetCenters", surface=surface, concurrency=high)["rps"],
            3,
        )
        for surface in ("REST", "SOAP")
    }
    growth_10k = {
        c: round(find(results, case=c)["p50_ms"] / find(results, case=c, scale="10k")["p50_ms"], 3)
        for c in SEARCH_CASES
    }
    soap = {
        c: round(find(results, case=c, surface="SOAP")["p50_ms"] / find(results, case=c)["p50_ms"], 3)
        for c in {r["case"] for r in results["cases"] if r["scale"] == "1M"}
    }
    found = {
        "search_any_31d_p95_vs_floor": to_floor("search_any_31d", 2.5, "searchAvailabilities any doctor 31 days"),
        "fully_booked_31d_p95_vs_floor": to_floor("search_full_31d", 3.0, "searchAvailabilities fully booked"),
        "add_appointment_p95_vs_floor": to_floor("addAppointment", 2.5, "addAppointment"),
        "key_entities_p95_vs_floor": to_floor("KeyEntities", 2.0, "KeyEntities (catalogue unchanged)"),
        "mixed_throughput_share_of_floor": target(
            min(shares.values()), 0.45, False,
            f"lower over REST and SOAP of: requests per second of the mixed load / of GetCenters on the same "
            f"surface, 1 M appointments, {high} connections",
            per_surface=shares,
        ),
        "growth_1m_vs_10k_latency_ratio": target(
            max(growth_10k.values()), 1.2, True,
            f"largest over the three searches of p50 at 1 M / p50 at 10 k appointments; REST, {low} connections",
            per_case=growth_10k,
        ),
        "soap_rest_latency_ratio": target(
            max(soap.values()), 1.2, True,
            f"largest over the measured methods of p50 SOAP / p50 REST; 1 M appointments, {low} connections",
            per_case=dict(sorted(soap.items())),
        ),
    }  # fmt: skip
    if any(r["scale"] == "3M" for r in results["cases"]):
        group = {
            c: round(find(results, case=c, scale="3M")["p95_ms"] / find(results, case=c)["p95_ms"], 3)
            for c in ("search_any_31d", "addAppointment")
        }
        found["growth_3k_doctors_3m_vs_1m_p95_ratio"] = target(
            max(group.values()),
            1.5,
            True,
            f"largest over search any doctor 31 days and addAppointment of p95 at 3,000 doctors and 3 M appointments "
            f"/ p95 at 300 doctors and 1 M; REST, {low} connections",
            per_case=group,
        )
    return found


# ---------------------------------------------------------------- docs/performance.md


def table(results: dict) -> str:
    lines = [
        "| scale | case | surface | conc. | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["cases"] + results["mixed"]:
        lines.append(
            f"| {r['scale']} | {LABELS[r['case']]} | {r['surface']} | {r['concurrency']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |"
        )
    return "\n".join(lines)


def targets_table(results: dict) -> str:
    lines = ["| target | value | limit | met | how |", "|---|---:|---:|---|---|"]
    for name, t in results["targets"].items():
        lines.append(f"| {name} | {t['value']} | {t['limit']} | {'yes' if t['met'] else '**no**'} | {t['how']} |")
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
