"""Chart data for the pages: inline SVG sparklines (drawn on the server, no script) and the
series the community page hands to Chart.js (static/vendor/chartjs) as JSON."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

SPARK_WIDTH, SPARK_HEIGHT = 120, 28


def sparkline_points(values: list[float | None], *, from_zero: bool = True) -> str:
    """`points` of an SVG polyline for a series of rates (gaps drawn as zero). `from_zero`
    False draws from the series' lowest value (a headcount that moves by a few in a thousand)."""
    if not values:
        return ""
    numbers = [float(v or 0) for v in values]
    bottom = 0.0 if from_zero else min(numbers)
    span = (max(numbers) - bottom) or 1
    step = SPARK_WIDTH / max(len(numbers) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 2 - ((v - bottom) / span) * (SPARK_HEIGHT - 4):.1f}"
        for i, v in enumerate(numbers)
    )


def _percent(value):
    return round(value * 100, 1) if value is not None else None


def community_charts(report: dict) -> list[dict]:
    series = report["series"]
    labels = [date_format(p["day"], "m-d") for p in series]
    charts = [
        {
            "id": "members",
            "title": _("Members"),
            "type": "line",
            "labels": labels,
            "datasets": [{"label": _("Members"), "data": [p["members"] for p in series]}],
            "unit": "",
        },
        {
            "id": "activity",
            "title": _("Activity rate (daily)"),
            "type": "line",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Activity rate"),
                    "data": [_percent(p["activity_rate"]) for p in series],
                }
            ],
            "unit": "%",
        },
        {
            "id": "conversion",
            "title": _("Conversion rate (daily)"),
            "type": "line",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Conversion rate"),
                    "data": [_percent(p["conversion_rate"]) for p in series],
                }
            ],
            "unit": "%",
        },
    ]
    if report["show_revenue"]:
        charts.append(
            {
                "id": "revenue",
                "title": _("Revenue"),
                "type": "bar",
                "labels": labels,
                "datasets": [
                    {"label": _("Revenue"), "data": [float(p["revenue"]) for p in series]}
                ],
                "unit": "¥",
            }
        )
    for chart in charts:
        chart["element_id"] = f"chart-{chart['id']}-data"
        # the accessible table fallback: one row per day
        chart["rows"] = [
            (label, [ds["data"][i] for ds in chart["datasets"]])
            for i, label in enumerate(chart["labels"])
        ]
    return charts


def chart_json(chart: dict) -> dict:
    """What Chart.js gets (the table rows stay in the page)."""
    return {k: v for k, v in chart.items() if k != "rows"}
