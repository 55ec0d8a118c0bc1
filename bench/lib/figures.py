"""Each benchmark's figures beside its raw baseline (from the JSON it wrote), and its
correctness checks: what must hold at any scale and on any machine (0 oversold units, no
duplicate posts, the rollups' figures equal to the raw aggregate, the dormant counts agreeing,
no errors). Targets on speed are figures, not checks: a slow machine misses them."""

from __future__ import annotations


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 100:
            text = f"{value:,.0f}"
        elif abs(value) >= 10:
            text = f"{value:.1f}"
        else:
            text = f"{value:.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def times(cost: float | None, raw: float | None) -> tuple[float | None, str]:
    """cost ÷ raw (both costs: seconds, or seconds per item): above 1 the product path costs
    that many times the raw baseline; below 1 it is that many times faster."""
    if not cost or not raw:
        return None, "—"
    ratio = cost / raw
    if ratio >= 1:
        return round(ratio, 2), f"{ratio:,.1f}× the raw cost"
    return round(ratio, 4), f"{1 / ratio:,.1f}× faster than raw"


def figure(bench, name, value, unit, baseline_name, baseline, baseline_unit, ratio, target="",
           ok=None) -> dict:  # fmt: skip
    ratio_value, ratio_text = ratio
    return {
        "benchmark": bench,
        "figure": name,
        "value": value,
        "unit": unit,
        "baseline": baseline_name,
        "baseline_value": baseline,
        "baseline_unit": baseline_unit,
        "ratio": ratio_value,
        "ratio_text": ratio_text,
        "target": target,
        "ok": ok,
    }


def collect(steps: dict) -> list[dict]:
    rows: list[dict] = []

    def data(name):
        step = steps.get(name)
        return step["json"] if step and step["rc"] == 0 and step["json"] else None

    if d := data("ingest_events"):
        rows.append(
            figure(
                "ingestion",
                f"events/s through POST /api/v1/events/ ({d['events']:,} events, batches of "
                f"{d['batch']:,}, gunicorn {d.get('gunicorn_workers', 2)} workers)",
                d["api_events_per_s"],
                "events/s",
                "COPY of the same rows into members_rawevent",
                d["copy_rows_per_s"],
                "rows/s",
                times(1 / d["api_events_per_s"], 1 / d["copy_rows_per_s"]),
                f"non-200: {d['non_200']}",
                d["non_200"] == 0,
            )
        )
    if d := data("metrics"):
        rows.append(
            figure(
                "metrics",
                f"metrics API, one group of {d['members']:,} members, 30-day window: median "
                f"(p95 {d['api_community_p95_ms']} ms)",
                d["api_community_median_ms"],
                "ms",
                f"raw aggregate over {d.get('rows_message_events', d['message_events']):,} "
                "raw events, orders and membership history (median)",
                d["raw_median_ms"],
                "ms",
                times(d["api_community_median_ms"], d["raw_median_ms"]),
                "≥ 20× faster and < 50 ms; figures equal",
                bool(d["target_20x"] and d["target_50ms"] and d["figures_agree"]),
            )
        )
        insert = d.get("phase_insert_late_events_s")
        rows.append(
            figure(
                "metrics",
                f"rollups.refresh after {d['late_events']:,} late events "
                f"({d['refresh_group_days']} group-days)",
                d["refresh_s"],
                "s",
                "INSERT … SELECT of those events (no rollups)",
                insert,
                "s",
                times(d["refresh_s"], insert),
                "figures equal after refresh",
                bool(d.get("figures_agree_after_refresh")),
            )
        )
    if d := data("flash_sale"):
        rows.append(
            figure(
                "flash sale",
                f"order attempts/s, {d['clients']} concurrent clients through gunicorn, no gate "
                f"({d['attempts']:,} attempts, {d['units']:,} units)",
                d["api_attempts_per_s"],
                "attempts/s",
                "bare conditional UPDATE loop on the same row, one connection",
                d["sql_updates_per_s"],
                "updates/s",
                times(1 / d["api_attempts_per_s"], 1 / d["sql_updates_per_s"]),
                f"oversold units: {d['oversold']} (must be 0)",
                d["oversold"] == 0,
            )
        )
        from .flash_figures import gate_rows  # the stock gate's rounds (flash_sale.py)

        rows += gate_rows(d)
    if d := data("member_pages"):
        from .member_figures import member_rows  # bench/member_pages.py

        rows += member_rows(d)
    if d := data("dispatch_posts"):
        rows.append(
            figure(
                "dispatcher",
                f"{d['dispatchers']} dispatcher processes publish {d['posts']:,} due posts "
                f"(shares {'/'.join(str(s) for s in d['shares'])})",
                d["wall_s"],
                "s",
                "one UPDATE … RETURNING + INSERT of the same posts (rolled back)",
                d["raw_s"],
                "s",
                times(d["wall_s"], d["raw_s"]),
                f"duplicates: {d['duplicates']} (must be 0), unsent: {d['left_unsent']}",
                d["duplicates"] == 0 and d["left_unsent"] == 0,
            )
        )
    if d := data("dormant_scan"):
        rows.append(
            figure(
                "dormant scan",
                f"members.jobs.mark_dormant over {d['memberships']:,} memberships "
                f"({d['marked']:,} become dormant; median of {d['runs']})",
                d["job_median_s"],
                "s",
                "bare UPDATE … WHERE last_active_at < cutoff, same rows (rolled back)",
                d["raw_median_s"],
                "s",
                times(d["job_median_s"], d["raw_median_s"]),
                "counts agree",
                bool(d["counts_agree"]),
            )
        )
        if "celery_wall_s" in d:
            rows.append(
                figure(
                    "dormant scan",
                    f"task scan_dormant on a Celery worker, enqueue to done "
                    f"({d['celery_dormant']:,} dormant, {d['celery_reminded']:,} reminders; "
                    f"worker peak {d['celery_worker_peak_rss_mb']} MB)",
                    d["celery_wall_s"],
                    "s",
                    "the bare UPDATE above (no history, no reminders)",
                    d["raw_median_s"],
                    "s",
                    times(d["celery_wall_s"], d["raw_median_s"]),
                    "dormant count as above",
                    d["celery_dormant"] >= d["marked"],
                )
            )
    if d := data("dashboard_load"):
        base = d["healthz"].get("median_ms")
        label = f"{d['users']} users, {d['gunicorn_workers']} gunicorn workers"
        for page, row in d["pages"].items():
            rows.append(
                figure(
                    "dashboard",
                    f"{page}: median under load (p95 {row.get('p95_ms')} ms, alone "
                    f"{row.get('alone_median_ms')} ms, {row['requests']:,} requests)",
                    row.get("median_ms"),
                    "ms",
                    f"/healthz median, same load ({label})",
                    base,
                    "ms",
                    times(row.get("median_ms"), base),
                    f"errors: {row['errors']}",
                    row["errors"] == 0,
                )
            )
        overall = d["overall"]
        rows.append(
            figure(
                "dashboard",
                f"all pages: median under load (p95 {overall.get('p95_ms')} ms, "
                f"{overall['rps']} requests/s)",
                overall.get("median_ms"),
                "ms",
                f"/healthz median, same load (p95 {d['healthz'].get('p95_ms')} ms, "
                f"{d['healthz']['rps']} requests/s)",
                base,
                "ms",
                times(overall.get("median_ms"), base),
                f"errors: {overall['errors']}",
                overall["errors"] == 0,
            )
        )
        workers = [p for p in d["processes"] if p["role"] == "worker"]
        rows.append(
            figure(
                "dashboard",
                "peak memory per gunicorn worker (VmHWM: "
                + ", ".join(f"{p['peak_rss_mb']:.0f}" for p in workers)
                + " MB)",
                d["worker_peak_rss_mb"],
                "MB",
                "a worker's resident size once warm (every page served once)",
                d["worker_warm_rss_mb"],
                "MB",
                times(d["worker_peak_rss_mb"], d["worker_warm_rss_mb"]),
            )
        )
    if d := data("api_key_auth"):
        rows.append(
            figure(
                "API keys",
                "API-key check (keyed HMAC-SHA256)",
                d["hmac_us"],
                "µs",
                "bare SHA-256 of the same input",
                d["sha256_us"],
                "µs",
                times(d["hmac_us"], d["sha256_us"]),
                f"password hasher would take {d['password_us']:,.0f} µs",
                None,
            )
        )
    worker = steps.get("_celery_worker")
    if worker and worker.get("peak_rss_mb"):
        rows.append(
            figure(
                "Celery",
                "peak memory of the Celery worker while ingestion and flash sale ran",
                worker["peak_rss_mb"],
                "MB",
                "its resident size once ready",
                worker["ready_rss_mb"],
                "MB",
                times(worker["peak_rss_mb"], worker["ready_rss_mb"]),
            )
        )
    return rows


# --- correctness ---------------------------------------------------------------------------------


def check(bench: str, name: str, ok) -> dict:
    return {"benchmark": bench, "check": name, "ok": bool(ok)}


def checks(steps: dict) -> list[dict]:
    """What must hold whatever the scale: one row per check of each benchmark that ran (a
    benchmark that failed, or wrote no figures, is one failed check)."""
    out = []
    worker = steps.get("_celery_worker")
    if worker and "tasks_failed" in worker:
        out.append(check("celery_worker", "no task raised", worker["tasks_failed"] == 0))
    for name, step in steps.items():
        if name.startswith("_"):
            continue
        d = step.get("json")
        if step["rc"] or not d:
            out.append(check(name, f"completes (exit {step['rc']}) and writes its figures", False))
            continue
        out.extend(CHECKS.get(name, lambda _d: [])(d))
    return out


def _synthetic(d):
    scale, rows = d["scale"], d["rows"]
    out = [
        check("synthetic", "groups, members and orders as the scale says",
              (rows["communities"], rows["members"], rows["orders"])
              == (scale["communities"], scale["members"], scale["orders"])),
        check("synthetic", "raw events, care cases and rollups written",
              rows["raw_events"] > 0 and rows["care_cases"] > 0 and rows["member_days"] > 0),
    ]  # fmt: skip
    generated = d["dataset"].get("generated")
    if generated:  # right after generating only: days later the scan has new work, rightly
        out.append(
            check("synthetic", "the dormant scan finds nothing left to mark after generation",
                  generated["dormant_left_to_do"] == 0)
        )  # fmt: skip
    return out


def _dashboard(d):
    return [
        check("dashboard_load", "no errors under load", d["overall"]["errors"] == 0),
        check("dashboard_load", "no errors from /healthz", d["healthz"]["errors"] == 0),
    ]


def _ingest(d):
    return [
        check("ingest_events", "every batch answered 200", d["non_200"] == 0),
        check("ingest_events", "every event accepted, a duplicate or rejected with a reason",
              d["accepted"] + d["duplicates"] + d["rejected"] == d["events"]),
        check("ingest_events", "the COPY stored as many rows as the API was sent",
              d["copy_rows"] == d["events"]),
    ]  # fmt: skip


def _flash_sale(d):
    out = [
        check("flash_sale", "0 oversold units", d["oversold"] == 0),
        check(
            "flash_sale",
            "sold out exactly: as many orders as units (or attempts)",
            d["orders_created"] == min(d["units"], d["attempts"]),
        ),
    ]
    from .flash_figures import gate_checks

    out += gate_checks(d)
    return out


def _member_pages(d):
    from .member_figures import member_checks

    return member_checks(d)


def _dispatch(d):
    return [
        check("dispatch_posts", "0 duplicate post.publish actions", d["duplicates"] == 0),
        check("dispatch_posts", "every due post sent", d["left_unsent"] == 0),
        check("dispatch_posts", "the raw baseline published the same posts",
              d["raw_posts"] == d["posts"]),
    ]  # fmt: skip


def _metrics(d):
    return [
        check("metrics", "rollup figures equal the raw aggregate", d["figures_agree"]),
        check("metrics", "equal again after the refresh", d["figures_agree_after_refresh"]),
    ]


def _dormant(d):
    out = [check("dormant_scan", "mark_dormant and the bare UPDATE agree", d["counts_agree"])]
    if "celery_dormant" in d:
        out.append(
            check("dormant_scan", "the Celery task marked them too",
                  d["celery_dormant"] >= d["marked"])
        )  # fmt: skip
    return out


def _api_keys(d):
    return [
        check("api_key_auth", "the check accepts the key and refuses another",
              d["key_check_accepts"] and d["key_check_refuses_another"]),
    ]  # fmt: skip


CHECKS = {
    "api_key_auth": _api_keys,
    "synthetic": _synthetic,
    "dashboard_load": _dashboard,
    "ingest_events": _ingest,
    "flash_sale": _flash_sale,
    "member_pages": _member_pages,
    "dispatch_posts": _dispatch,
    "metrics": _metrics,
    "dormant_scan": _dormant,
}
