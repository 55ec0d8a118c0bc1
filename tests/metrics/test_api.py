from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from members.models import Membership
from metrics.models import CommissionTier

from .conftest import ev


def test_community_rates_and_change(org_a, busy_group):
    body = org_a.api_client().get(f"/api/v1/metrics/communities/{busy_group.pk}/?window=7").json()
    rates = body["rates"]
    assert rates["members"] == 3  # u4 left
    assert rates["speakers"] == 2 and rates["buyers"] == 2 and rates["repeat_buyers"] == 1
    # u4 left during the week: still one of the four members in it (metrics/rates.py)
    assert rates["activity_rate"] == 2 / 4
    assert rates["conversion_rate"] == 2 / 4
    assert rates["repurchase_rate"] == 0.5
    # the week before: u1 posted once among four members
    assert rates["activity_change"]["previous"] == 0.25
    assert rates["activity_change"]["direction"] == "up"
    assert rates["activity_change"]["points"] == round((2 / 4 - 0.25) * 100, 1)
    assert [d["key"] for d in body["definitions"]] == ["activity", "conversion", "repurchase"]
    assert len(body["series"]) == 7
    assert [(c["reason"], c["label"], c["count"]) for c in body["churn"]] == [
        ("too_many_ads", "广告太多", 1)  # the org's language: the bot sent no Accept-Language
    ]
    assert sum(sum(row) for row in body["heatmap"]["grid"]) == 2
    assert body["top"][0]["name"] and body["top"][0]["messages"] == 1
    assert body["top"][0]["spend"]  # the key's role (manager) sees revenue


def test_the_report_is_served_from_the_cache_until_a_refresh_changes_the_rollups(
    org_a, busy_group, send, django_assert_max_num_queries
):
    client = org_a.api_client()
    path = f"/api/v1/metrics/communities/{busy_group.pk}/?window=7"
    first = client.get(path).json()
    # the rollup part from the cache: the key, the group with its stamp, dormancy, campaigns
    with django_assert_max_num_queries(6):
        again = client.get(path).json()
    assert again == first
    # live records are read every time: a member made dormant shows at once
    Membership.objects.for_org(org_a.org).filter(identity__external_user_id="u2").update(
        status="dormant"
    )
    assert client.get(path).json()["dormancy"]["dormant"] == first["dormancy"]["dormant"] + 1
    # a refresh of the group's rollups invalidates: the new speaker is counted
    send(ev("message.posted", "u3", 1))
    rates = client.get(path).json()["rates"]
    assert rates["speakers"] == first["rates"]["speakers"] + 1


def test_overview_sorts_and_totals(org_a, busy_group, send):
    send(
        ev("member.joined", "x1", 30, community="g2"), ev("message.posted", "x1", 1, community="g2")
    )
    client = org_a.api_client()
    body = client.get("/api/v1/metrics/overview/?window=7&sort=-activity").json()
    names = [r["name"] for r in body["rows"]]
    assert names[0] == "g2"  # 100% active
    assert body["total"]["members"] == 4
    assert len(body["rows"][0]["activity_series"]) == 7
    ascending = client.get("/api/v1/metrics/overview/?window=7&sort=activity").json()
    assert [r["name"] for r in ascending["rows"]] == names[::-1]


def test_custom_window_and_bad_windows(org_a, busy_group):
    client = org_a.api_client()
    ok = client.get("/api/v1/metrics/overview/?start=2026-01-01&end=2026-01-31")
    assert ok.status_code == 200 and ok.json()["window"]["days"] == 31
    for query in (
        "window=8",
        "start=2026-02-01&end=2026-01-01",
        "start=x&end=y",
        "start=2024-01-01&end=2026-01-01",
        "window=abc",
    ):
        response = client.get(f"/api/v1/metrics/overview/?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["fields"]


def test_csv_exports(org_a, busy_group):
    client = org_a.api_client()
    overview = client.get("/api/v1/metrics/overview.csv?window=30")
    assert overview.status_code == 200 and overview["Content-Type"].startswith("text/csv")
    text = overview.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("community_id,community,window_start")
    for table in ("series", "heatmap", "churn", "cohorts", "top"):
        response = client.get(f"/api/v1/metrics/communities/{busy_group.pk}/{table}.csv")
        assert response.status_code == 200, table
    assert client.get(f"/api/v1/metrics/communities/{busy_group.pk}/nope.csv").status_code == 404


# Mid-month, mid-day in Shanghai: busy_group's orders (4 to 6 hours ago) are this month's. In
# the first hours of a month they were last month's and the staff row had no orders.
@pytest.mark.time_machine(
    datetime(2026, 11, 18, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
)
def test_commission_ladder_and_staff_performance(org_a, busy_group):
    from communities.services import staff_assign

    staff_assign(actor=org_a.actor(), community=busy_group, user=org_a.deputy, role="deputy")
    client = org_a.api_client()
    bad = client.put(
        "/api/v1/metrics/commission-ladder/",
        {
            "steps": [
                {"min_orders": 10, "rate_percent": "12"},
                {"min_orders": 20, "rate_percent": "10"},
            ]
        },
        content_type="application/json",
    )
    assert bad.status_code in (400, 403)
    from tenancy.services import api_key_create

    _key, raw = api_key_create(actor=org_a.actor(), name="m", role="manager")
    assert (
        org_a.api_client(raw)
        .put(
            "/api/v1/metrics/commission-ladder/",
            {
                "steps": [
                    {"min_orders": 1, "rate_percent": "10"},
                    {"min_orders": 3, "rate_percent": "12"},
                ]
            },
            content_type="application/json",
        )
        .status_code
        == 403  # a key never changes org settings
    )
    CommissionTier.objects.bulk_create(
        [
            CommissionTier(organization=org_a.org, min_orders=1, rate_percent=Decimal("10")),
            CommissionTier(organization=org_a.org, min_orders=3, rate_percent=Decimal("12")),
        ]
    )
    body = client.get("/api/v1/metrics/staff/").json()
    (row,) = [r for r in body["rows"] if r["email"] == org_a.deputy.email]
    assert row["orders"] == 3 and Decimal(row["revenue"]) == Decimal("278.00")
    assert Decimal(row["commission_percent"]) == 12
    assert Decimal(row["commission"]) == Decimal("33.36")
    assert client.get("/api/v1/metrics/staff/?month=2026-13").status_code == 400
    assert client.get("/api/v1/metrics/staff.csv").status_code == 200
