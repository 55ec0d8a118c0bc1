"""The member pages' figures and checks (bench/member_pages.py): the buy and the sold-out
answers from member sessions against `/livez` under the same load, and the live-stock polling.
A row's mark says whether its target was met (and its correctness held); the checks say only
what must hold on any machine."""

from __future__ import annotations

from .figures import check, figure


def _rate(value, base) -> tuple[float | None, str]:
    """A rate against the trivial view's rate: the share of it (the targets are shares)."""
    if not value or not base:
        return None, "—"
    return round(value / base, 3), f"{value / base:.2f}× the trivial view's rate"


def _cost(value, base) -> tuple[float | None, str]:
    """A latency against the trivial view's latency under the same load."""
    if not value or not base:
        return None, "—"
    return round(value / base, 3), f"{value / base:.2f}× the trivial view's"


def member_rows(d: dict) -> list[dict]:
    b, s, t, p = d["buy"], d["sold_out"], d["trivial"], d["poll"]
    tp = p["trivial"]
    label = f"{d['members']:,} member sessions at once, gunicorn {d['gunicorn_workers']} workers"
    base = f"GET /livez, the same {d['members']:,} clients released at once (mean of 2 waves)"
    return [
        figure(
            "member pages",
            f"buy attempts/s from {label} ({d['units']} units, cap 1; p50 {b['p50_ms']} ms, "
            f"p99 {b['p99_ms']} ms)",
            b["per_s"], "attempts/s", base, t["per_s"], "answers/s",
            _rate(b["per_s"], t["per_s"]),
            f"≥ 0.5× the trivial view; sold {d['units_sold']} (exactly {d['units']}), "
            f"oversold {d['oversold']}",
            d["oversold"] == 0 and d["units_sold"] == min(d["units"], d["members"])
            and b["per_s"] >= 0.5 * t["per_s"],
        ),
        figure(
            "member pages",
            f"sold-out answers/s, the same members again (p50 {s['p50_ms']} ms, "
            f"p99 {s['p99_ms']} ms)",
            s["per_s"], "answers/s", base, t["per_s"], "answers/s",
            _rate(s["per_s"], t["per_s"]),
            "≥ 0.8× the trivial view",
            s["outcomes"].get("refused", 0) == d["members"] and s["per_s"] >= 0.8 * t["per_s"],
        ),
        figure(
            "member pages",
            f"live stock poll, {p['pollers']:,} members every {p['interval_s']:g} s for "
            f"{p['duration_s']:g} s: p95 ({p['polls']:,} polls, p50 {p['p50_ms']} ms, "
            f"{p['queries_per_poll']:g} database transactions per poll)",
            p["p95_ms"], "ms",
            f"GET /livez polled by the same members the same way, just before (p95; "
            f"{tp['errors']} errors)", tp["p95_ms"], "ms",
            _cost(p["p95_ms"], tp["p95_ms"]),
            f"< 200 ms; errors {p['errors']} (0); 0 queries per poll",
            p["p95_ms"] < 200 and p["errors"] == 0 and p["queries_per_poll"] == 0,
        ),
    ]  # fmt: skip


def member_checks(d: dict) -> list[dict]:
    p = d["poll"]
    return [
        check("member_pages", "exactly the stock sold from member sessions",
              d["units_sold"] == min(d["units"], d["members"])
              and d["buy"]["outcomes"].get("bought", 0) == d["units_sold"]),
        check("member_pages", "0 oversold units, no member over the cap",
              d["oversold"] == 0 and d["over_cap"] == 0),
        check("member_pages", "every buy after the sell-out refused",
              d["sold_out"]["outcomes"] == {"refused": d["members"]}),
        check("member_pages", "every /livez answered 200",
              all(w["outcomes"] == {"200": d["members"]} for w in (
                  d["trivial"]["before"], d["trivial"]["after"]))),
        check("member_pages", "0 poll errors", p["errors"] == 0 and p["polls"] > 0),
        check("member_pages", "0 database queries per poll (pg_stat_database)",
              p["transactions"] == 0),
    ]  # fmt: skip
