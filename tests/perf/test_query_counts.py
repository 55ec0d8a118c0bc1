"""Every list page and API list runs a bounded number of queries that does not grow with the
number of rows: measured with 5 and with 30 rows of everything (one page: pages hold 50), the
counts must be equal. New routes are walked automatically (tests/test_cross_tenant.py's lists).

Measured as the owner (who sees everything) and as a deputy, whose lists are filtered to the
groups they staff."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.test_cross_tenant import API_LIST_ROUTES, ORG_LIST_ROUTES

from .seed import grow

MAX_QUERIES = 40  # the most any list may run, whatever its size
# The home gathers a panel from every app (tenancy/home.py): each a few bounded queries.
PAGE_MAX_QUERIES = {"dashboard": 50}


@pytest.fixture(autouse=True)
def _calendar_one_group_at_a_time(monkeypatch):
    """The calendar shows one group (and its heatmap: one query more) above a number of groups;
    the rows grown here cross it. Pinned to that mode so both sizes measure the same page."""
    monkeypatch.setattr("communities.content_views.ALL_GROUPS_LIMIT", 0)


def _measure(client, url) -> tuple[int, int]:
    client.get(url)  # once before: one-off work (a key's last-used stamp, caches) is not per row
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return response.status_code, len(queries)


def _urls(tenant):
    urls = []
    for route in ORG_LIST_ROUTES:
        urls.append((route.name, reverse(route.name, kwargs={"org_slug": tenant.org.slug}), False))
    for route in API_LIST_ROUTES:
        urls.append((route.name, reverse(route.name), True))
    return urls


@pytest.mark.parametrize("who", ["owner", "deputy"])
def test_list_query_counts_do_not_grow_with_rows(org_a, who):
    from communities.models import Community, StaffAssignment

    client_user = getattr(org_a, who)
    web = org_a.client_for(client_user)
    api = org_a.api_client()
    grow(org_a, 5)
    if who == "deputy":  # staff of every group: their lists show the rows too
        for community in Community.objects.for_org(org_a.org):
            StaffAssignment.objects.create(
                organization=org_a.org, community=community, user=client_user, role="deputy"
            )
    urls = _urls(org_a)
    small = {name: _measure(api if is_api else web, url) for name, url, is_api in urls}
    grow(org_a, 25)
    if who == "deputy":
        for community in Community.objects.for_org(org_a.org).exclude(staff__user=client_user):
            StaffAssignment.objects.create(
                organization=org_a.org, community=community, user=client_user, role="deputy"
            )
    large = {name: _measure(api if is_api else web, url) for name, url, is_api in urls}

    problems = []
    for name, _url, _api in urls:
        (status_small, n_small), (status_large, n_large) = small[name], large[name]
        if status_large >= 500 or status_small >= 500:
            problems.append(f"{name}: server error {status_small}/{status_large}")
        elif n_large != n_small:
            problems.append(f"{name}: {n_small} queries with 5 rows, {n_large} with 30")
        elif n_large > PAGE_MAX_QUERIES.get(name, MAX_QUERIES):
            problems.append(f"{name}: {n_large} queries (more than allowed)")
    assert len(urls) >= 30
    assert not problems, "\n".join(problems)
    # 405: a POST-only route under an API list path (events, imports)
    refused = sorted(name for name, (status, _n) in large.items() if status not in (200, 405))
    if who == "owner":
        assert not refused, refused  # every list really ran, with its 30 rows


# Pages whose query count still grows with the rows, each with why; the test below fails when
# one of them stops growing (take it off) or when any other page grows.
GROWING_PAGES: dict[str, str] = {}


def _staff_everywhere(tenant, user) -> None:
    from communities.models import Community, StaffAssignment

    for community in Community.objects.for_org(tenant.org).exclude(staff__user=user):
        StaffAssignment.objects.create(
            organization=tenant.org, community=community, user=user, role="deputy"
        )


@pytest.mark.parametrize("who", ["owner", "deputy"])
def test_every_dashboard_page_query_count_does_not_grow(org_a, who):
    """Every GET page of the dashboard (tests/dashboard_pages.py walks the URL patterns, so a
    new page is measured without being added anywhere), with N and then 3N groups, members
    and rows of every kind: the same query count. The objects in the URLs stay the same."""
    from tests.dashboard_pages import dashboard_pages

    user = getattr(org_a, who)
    web = org_a.client_for(user)
    grow(org_a, 5)
    pages = dashboard_pages(org_a.org, org_a.deputy)  # may add the objects some pages show
    if who == "deputy":
        _staff_everywhere(org_a, user)
    small = {path: _measure(web, path) for _name, path in pages}
    grow(org_a, 10)
    if who == "deputy":
        _staff_everywhere(org_a, user)
    large = {path: _measure(web, path) for _name, path in pages}

    problems, grew = [], set()
    for name, path in pages:
        (status_small, n_small), (status_large, n_large) = small[path], large[path]
        if status_small >= 500 or status_large >= 500:
            problems.append(f"{path}: server error {status_small}/{status_large}")
        elif status_small == status_large == 200 and n_large != n_small:
            grew.add(name)
            if name not in GROWING_PAGES:
                problems.append(f"{path}: {n_small} queries with 5 rows, {n_large} with 15")
        elif n_large > PAGE_MAX_QUERIES.get(name, MAX_QUERIES):
            problems.append(f"{path}: {n_large} queries (more than allowed)")
    assert len(pages) >= 80  # the walk really found the dashboard
    assert not problems, "\n".join(problems)
    if who == "owner":
        stale = sorted(set(GROWING_PAGES) - grew)
        assert not stale, f"no longer growing, take them off GROWING_PAGES: {stale}"
        # the owner opened every list page, and nearly every object's (some of the grown
        # objects, a draft campaign say, have no page of that kind)
        lists = {route.name for route in ORG_LIST_ROUTES}
        refused = sorted(p for n, p in pages if n in lists and large[p][0] != 200)
        assert not refused, refused
        opened = sum(1 for status, _n in large.values() if status == 200)
        assert opened >= 0.9 * len(large), f"only {opened} of {len(large)} pages opened"
