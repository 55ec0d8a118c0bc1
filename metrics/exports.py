"""Every metrics table as CSV: the same rows the pages and the API show, flattened."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse

from members.csv_io import escape_cell


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, str):
        return escape_cell(value)
    return value


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 (Chinese names) correctly with a BOM
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


TABLES = ("series", "heatmap", "churn", "cohorts", "top")

RATE_COLUMNS = [
    "members",
    "speakers",
    "buyers",
    "repeat_buyers",
    "activity_rate",
    "conversion_rate",
    "repurchase_rate",
    "activity_change_points",
    "conversion_change_points",
    "repurchase_change_points",
]


def rate_cells(row: dict) -> list:
    return [
        row["members"],
        row["speakers"],
        row["buyers"],
        row["repeat_buyers"],
        row["activity_rate"],
        row["conversion_rate"],
        row["repurchase_rate"],
        row["activity_change"]["points"],
        row["conversion_change"]["points"],
        row["repurchase_change"]["points"],
    ]


def overview_csv(data: dict) -> tuple[list[str], list[list]]:
    header = ["community_id", "community", "window_start", "window_end", *RATE_COLUMNS]
    w = data["window"]
    rows = [[r["id"], r["name"], w.start, w.end, *rate_cells(r)] for r in data["rows"]]
    return header, rows


def community_tables(report: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Each table of the community page: {name: (header, rows)}."""
    series_header = ["day", "members", "speakers", "buyers", "orders", "activity_rate"]
    series_header += ["conversion_rate"]
    if report["show_revenue"]:
        series_header.append("revenue")
    tables = {
        "series": (series_header, [[p.get(k) for k in series_header] for p in report["series"]]),
        "heatmap": (
            ["weekday", *[f"{h:02d}" for h in range(24)]],
            [[day, *hours] for day, hours in enumerate(report["heatmap"]["grid"])],
        ),
        "churn": (
            ["reason", "label", "count"],
            [[c["reason"], c["label"], c["count"]] for c in report["churn"]],
        ),
        "cohorts": (
            ["week_start", "size", *[f"week_{n}" for n in range(1, len(report["cohorts"]))]],
            [[c["week_start"], c["size"], *c["retention"]] for c in report["cohorts"]],
        ),
    }
    top_header = ["member_id", "name", "messages", "checkins", "shares", "orders", "days"]
    if report["show_revenue"]:
        top_header.append("spend")
    tables["top"] = (top_header, [[t.get(k) for k in top_header] for t in report["top"]])
    return tables


def staff_csv(data: dict) -> tuple[list[str], list[list]]:
    header = [
        "user_id",
        "name",
        "email",
        "groups",
        "orders",
        "revenue",
        "commission_percent",
        "commission",
        "activity_rate",
        "reactivated",
        "median_first_response_seconds",
        "median_resolution_seconds",
        "cases",
    ]
    rows = []
    for r in data["rows"]:
        rows.append([r[k] if k != "groups" else " / ".join(r[k]) for k in header])
    return header, rows
