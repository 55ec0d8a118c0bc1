"""Dashboard pages: API keys, audit log, settings, org switching; bad input never 500s."""

import pytest
from django.urls import reverse

from tenancy.models import ApiKey, AuditLogEntry, Organization

from ..factories import AuditLogEntryFactory, OrganizationFactory, OrgMembershipFactory


def _url(name, tenant, **kwargs):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kwargs})


def test_owner_creates_a_key_and_sees_it_once(org_a):
    client = org_a.client_for(org_a.owner)
    response = client.post(_url("api-keys", org_a), {"name": "微信机器人", "role": "staff"})
    assert response.status_code == 200
    key = ApiKey.objects.for_org(org_a.org).get(name="微信机器人")
    page = response.content.decode()
    assert f"{key.prefix}_" in page  # the full key, this once
    assert key.role == "staff"
    again = client.get(_url("api-keys", org_a)).content.decode()
    assert f"{key.prefix}_" not in again and key.prefix in again
    entry = AuditLogEntry.objects.for_org(org_a.org).get(action="apikey.create", object_id=key.pk)
    assert entry.actor_user == org_a.owner


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "role": "manager"},
        {"name": "x" * 101, "role": "manager"},
        {"name": "ok", "role": "owner"},
    ],
)
def test_bad_key_input_is_a_form_error(org_a, data):
    before = ApiKey.objects.for_org(org_a.org).count()
    response = org_a.client_for(org_a.owner).post(_url("api-keys", org_a), data)
    assert response.status_code == 400
    assert b"invalid-feedback" in response.content
    assert ApiKey.objects.for_org(org_a.org).count() == before


def test_revoke_key(org_a):
    client = org_a.client_for(org_a.owner)
    response = client.post(_url("api-key-revoke", org_a, pk=org_a.api_key.pk))
    assert response.status_code == 302
    org_a.api_key.refresh_from_db()
    assert org_a.api_key.revoked_at is not None
    # revoking twice is a clear message, not a 500
    response = client.post(_url("api-key-revoke", org_a, pk=org_a.api_key.pk), follow=True)
    assert response.status_code == 200


def test_manager_cannot_manage_keys(org_a):
    response = org_a.client_for(org_a.manager).get(_url("api-keys", org_a))
    assert response.status_code == 403


def test_audit_log_page_filters_and_paginates(org_a, django_assert_max_num_queries):
    for i in range(60):
        AuditLogEntryFactory(organization=org_a.org, action="bulk.step", summary=f"step {i}")
    AuditLogEntryFactory(organization=org_a.org, action="special.thing", summary="needle")
    client = org_a.client_for(org_a.owner)
    url = _url("audit-log", org_a)
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200
    assert "needle" in page.content.decode()
    second = client.get(url + "?page=2").content.decode()
    assert "step" in second
    filtered = client.get(url + "?action=special").content.decode()
    assert "needle" in filtered and "step 1<" not in filtered
    partial = client.get(url + "?action=special", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"needle" in partial.content
    bad = client.get(url + "?since=garbage&page=abc")
    assert bad.status_code == 200


def test_analyst_cannot_read_audit_log(org_a):
    assert org_a.client_for(org_a.analyst).get(_url("audit-log", org_a)).status_code == 403


def test_settings_update_and_validation(org_a):
    client = org_a.client_for(org_a.owner)
    url = _url("org-settings", org_a)
    data = {
        "name": "新名字",
        "time_zone": "Europe/Berlin",
        "default_language": "en",
        "sub_owner_community_limit": 3,
        "general_group_limit": 2,
        "category_group_limit": 1,
        "remove_blocked_on_join": "on",
        "wake_up_holdout_percent": 10,
        "raw_event_retention_months": 25,
    }
    ok = client.post(url, data)
    assert ok.status_code == 302
    org = Organization.objects.get(pk=org_a.org.pk)
    assert (org.name, org.time_zone, org.default_language) == ("新名字", "Europe/Berlin", "en")
    assert org.sub_owner_community_limit == 3 and org.group_limits == {"general": 2, "category": 1}
    assert org.remove_blocked_on_join and not org.store_message_text
    assert org.raw_event_retention_months == 25
    entry = AuditLogEntry.objects.for_org(org).get(action="org.update")
    assert {"name", "time_zone", "default_language", "group_limits"} <= set(entry.changes)
    bad = client.post(
        url, {**data, "name": "", "time_zone": "Mars/Olympus", "default_language": "xx"}
    )
    assert bad.status_code == 400
    assert client.post(url, {**data, "general_group_limit": 0}).status_code == 400
    assert Organization.objects.get(pk=org.pk).name == "新名字"


def test_times_are_shown_in_the_orgs_time_zone(org_a):
    from datetime import UTC, datetime

    AuditLogEntryFactory(
        organization=org_a.org, created_at=datetime(2026, 1, 1, 0, 30, tzinfo=UTC), summary="tz"
    )
    page = org_a.client_for(org_a.owner).get(_url("audit-log", org_a)).content.decode()
    assert "2026-01-01 08:30" in page  # Asia/Shanghai is UTC+8


def test_dashboard_uses_org_language_until_user_picks_one(org_a):
    client = org_a.client_for(org_a.owner)
    page = client.get(_url("dashboard", org_a), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans">' in page.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(_url("dashboard", org_a))
    assert '<html lang="en">' in page.content.decode()


def test_home_redirects_to_the_only_org_or_the_picker(org_a):
    client = org_a.client_for(org_a.manager)
    assert client.get("/").url == _url("dashboard", org_a)
    other = OrganizationFactory()
    OrgMembershipFactory(organization=other, user=org_a.manager)
    assert client.get("/").url == reverse("org-list")
    picker = client.get(reverse("org-list")).content.decode()
    assert org_a.org.name in picker and other.name in picker


def test_anonymous_is_sent_to_login(client, org_a):
    response = client.get(_url("dashboard", org_a))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_outsider_gets_404(org_a):
    client = org_a.client_for(org_a.outsider)
    assert client.get(_url("dashboard", org_a)).status_code == 404
    assert client.get("/o/no-such-org/").status_code == 404


def test_deputy_sees_no_admin_links(org_a):
    page = org_a.client_for(org_a.deputy).get(_url("dashboard", org_a)).content.decode()
    assert _url("api-keys", org_a) not in page
    assert _url("audit-log", org_a) not in page
    owner_page = org_a.client_for(org_a.owner).get(_url("dashboard", org_a)).content.decode()
    assert _url("api-keys", org_a) in owner_page
