from django.urls import reverse

from communities.services import staff_assign
from metrics.models import CommissionTier

from .conftest import ev


def _url(org_a, name, **kwargs):
    return reverse(name, kwargs={"org_slug": org_a.org.slug, **kwargs})


def test_overview_page_sorts_and_links(org_a, busy_group, send):
    send(ev("member.joined", "x1", 30, community="g2"))
    client = org_a.client_for(org_a.owner)
    page = client.get(_url(org_a, "metrics") + "?window=7&sort=-conversion")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(">g1<") < html.index(">g2<")  # g1 converts, g2 does not
    assert "polyline" in html and 'data-testid="definitions"' in html
    partial = client.get(
        _url(org_a, "metrics") + "?window=7&sort=conversion", headers={"HX-Request": "true"}
    )
    body = partial.content.decode()
    assert "<html" not in body and body.index(">g2<") < body.index(">g1<")


def test_bad_window_falls_back_with_a_message(org_a, busy_group):
    page = org_a.client_for(org_a.owner).get(_url(org_a, "metrics") + "?start=2026-05-01&end=x")
    assert page.status_code == 200
    assert page.context["window"].days == 30
    assert list(page.context["messages"])


def test_community_page_has_charts_tables_and_cohorts(org_a, busy_group):
    page = org_a.client_for(org_a.owner).get(
        _url(org_a, "metrics-community-page", pk=busy_group.pk) + "?window=30"
    )
    html = page.content.decode()
    for marker in (
        "chart-members-data",
        "chart-activity-data",
        "chart-revenue-data",
        'data-testid="cohort-table"',
        'data-testid="heatmap"',
        "chartjs/chart.umd",
    ):
        assert marker in html, marker
    cohorts = page.context["report"]["cohorts"]
    joined = [c for c in cohorts if c["size"]]
    assert joined and joined[0]["size"] == 4


def test_deputy_sees_only_their_groups_and_no_revenue(org_a, busy_group, send):
    send(ev("member.joined", "x1", 30, community="g2"))
    from communities.models import Community

    g2 = Community.objects.for_org(org_a.org).get(external_id="g2")
    staff_assign(actor=org_a.actor(), community=busy_group, user=org_a.deputy, role="deputy")
    client = org_a.client_for(org_a.deputy)
    overview = client.get(_url(org_a, "metrics"))
    assert overview.status_code == 200
    assert [r["name"] for r in overview.context["data"]["rows"]] == ["g1"]
    page = client.get(_url(org_a, "metrics-community-page", pk=busy_group.pk))
    assert page.status_code == 200 and "chart-revenue-data" not in page.content.decode()
    assert client.get(_url(org_a, "metrics-community-page", pk=g2.pk)).status_code == 404
    assert client.get(_url(org_a, "metrics-staff-page")).status_code == 403


def test_ladder_form(org_a):
    client = org_a.client_for(org_a.owner)
    url = _url(org_a, "metrics-ladder")
    bad = client.post(url, {"min_orders": ["10", "20"], "rate_percent": ["12", "10"]})
    assert bad.status_code == 400 and not CommissionTier.objects.for_org(org_a.org).exists()
    junk = client.post(url, {"min_orders": ["ten"], "rate_percent": ["x"]})
    assert junk.status_code == 400
    ok = client.post(url, {"min_orders": ["10", "20", ""], "rate_percent": ["10", "12", ""]})
    assert ok.status_code == 302
    assert list(
        CommissionTier.objects.for_org(org_a.org).values_list("min_orders", "rate_percent")
    ) == [(10, 10), (20, 12)]
    assert client.get(_url(org_a, "metrics-staff-page")).status_code == 200
    manager = org_a.client_for(org_a.manager)
    assert manager.post(url, {"min_orders": ["1"], "rate_percent": ["1"]}).status_code == 403
