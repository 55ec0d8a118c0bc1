"""The metric pages' and the home's cached figures (metrics/page_cache.py): a write of the
rollups forgets them, and a viewer never gets figures cached for other groups."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.services import staff_assign
from metrics import page_cache

from .conftest import ev


def _overview(client, org_a):
    return client.get(reverse("metrics", kwargs={"org_slug": org_a.org.slug}) + "?window=7")


def _row(page, name):
    return next(r for r in page.context["data"]["rows"] if r["name"] == name)


def test_a_second_view_reads_no_rollups(org_a, busy_group):
    client = org_a.client_for(org_a.owner)
    _overview(client, org_a)
    with CaptureQueriesContext(connection) as queries:
        _overview(client, org_a)
    assert not [q for q in queries.captured_queries if "metrics_communityday" in q["sql"]]


def test_new_events_show_once_the_rollups_are_refreshed(org_a, busy_group, send):
    client = org_a.client_for(org_a.owner)
    home = reverse("dashboard", kwargs={"org_slug": org_a.org.slug})
    group_page = reverse(
        "metrics-community-page", kwargs={"org_slug": org_a.org.slug, "pk": busy_group.pk}
    )
    before = _row(_overview(client, org_a), "g1")
    figures = {f.key: f.today for f in client.get(home).context["figures"]}
    speakers = client.get(group_page + "?window=7").context["report"]["rates"]["speakers"]

    send(ev("message.posted", "u3", 1), ev("member.joined", "u9", 1))  # refreshes the rollups

    after = _row(_overview(client, org_a), "g1")
    assert after["speakers"] == before["speakers"] + 1
    assert after["members"] == before["members"] + 1
    now = {f.key: f.today for f in client.get(home).context["figures"]}
    assert now["members"] == figures["members"] + 1
    report = client.get(group_page + "?window=7").context["report"]
    assert report["rates"]["speakers"] == speakers + 1


def test_forget_starts_a_new_generation(org_a):
    first = page_cache.generation(org_a.org.pk)
    assert page_cache.generation(org_a.org.pk) == first
    page_cache.forget(org_a.org.pk)
    assert page_cache.generation(org_a.org.pk) != first


def test_a_deputy_never_gets_the_owners_cached_figures(org_a, busy_group, send):
    send(ev("member.joined", "x1", 30, community="g2"))
    staff_assign(actor=org_a.actor(), community=busy_group, user=org_a.deputy, role="deputy")
    owner = _overview(org_a.client_for(org_a.owner), org_a)  # fills the cache for both groups
    assert {r["name"] for r in owner.context["data"]["rows"]} == {"g1", "g2"}
    deputy_client = org_a.client_for(org_a.deputy)
    deputy = _overview(deputy_client, org_a)
    assert [r["name"] for r in deputy.context["data"]["rows"]] == ["g1"]
    assert deputy.context["data"]["total"]["members"] == _row(deputy, "g1")["members"]
    assert owner.context["data"]["total"]["members"] > deputy.context["data"]["total"]["members"]
    # the home's figures too: the deputy's count only their group's members
    home = reverse("dashboard", kwargs={"org_slug": org_a.org.slug})
    owner_members = {
        f.key: f.today for f in org_a.client_for(org_a.owner).get(home).context["figures"]
    }["members"]
    deputy_members = {f.key: f.today for f in deputy_client.get(home).context["figures"]}["members"]
    assert deputy_members == _row(deputy, "g1")["members"]
    assert owner_members > deputy_members


def test_revenue_stays_hidden_from_whom_may_not_see_it(org_a, busy_group):
    staff_assign(actor=org_a.actor(), community=busy_group, user=org_a.deputy, role="deputy")
    url = reverse(
        "metrics-community-page", kwargs={"org_slug": org_a.org.slug, "pk": busy_group.pk}
    )
    owner = org_a.client_for(org_a.owner).get(url).context["report"]
    assert "revenue" in owner["series"][0]
    deputy = org_a.client_for(org_a.deputy).get(url).context["report"]  # from the cache
    assert "revenue" not in deputy["series"][0]
    assert all("spend" not in row for row in deputy["top"])
    again = org_a.client_for(org_a.owner).get(url).context["report"]
    assert "revenue" in again["series"][0]
