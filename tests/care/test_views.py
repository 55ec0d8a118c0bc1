"""The dashboard pages: queue, case page with its steps, opening by hand, settings, overview."""

import pytest

from care.models import CareSettings, Case, CommunityKeywords, FollowUpRule
from tests.factories import CaseFactory, OrderFactory


@pytest.fixture
def deputy_client(org_a, group):
    return org_a.client_for(org_a.deputy)


def test_queue_tabs_and_overdue_highlight(org_a, group, deputy_client):
    from django.utils import timezone

    late = CaseFactory(
        organization=org_a.org,
        community=group,
        assignee=org_a.deputy,
        first_response_due_at=timezone.now() - timezone.timedelta(minutes=1),
    )
    CaseFactory(organization=org_a.org, community=group)
    slug = org_a.org.slug
    mine = deputy_client.get(f"/o/{slug}/care/")
    assert mine.status_code == 200 and late.subject in mine.text
    assert 'data-testid="overdue"' in mine.text
    assert 'data-testid="my-open-cases">1<' in mine.text  # the nav badge
    unassigned = deputy_client.get(f"/o/{slug}/care/?queue=unassigned", HTTP_HX_REQUEST="true")
    assert unassigned.status_code == 200 and late.subject not in unassigned.text
    assert '<nav class="navbar' not in unassigned.text  # the partial only
    for name in ("overdue", "open", "closed", "bogus"):
        assert deputy_client.get(f"/o/{slug}/care/?queue={name}&community=x").status_code == 200


def test_deputy_takes_a_case_through_every_step(org_a, group, deputy_client):
    case = CaseFactory(organization=org_a.org, community=group, assignee=org_a.deputy)
    url = f"/o/{org_a.org.slug}/care/{case.pk}/"
    assert deputy_client.post(url + "step/", {"step": "closed"}).status_code == 302
    assert Case.objects.for_org(org_a.org).get(pk=case.pk).status == "open"
    for step in ["responded", "acknowledged", "resolved", "followed_up", "closed"]:
        data = {"step": step, "note": f"{step} ok", "resolution": "replacement"}
        assert deputy_client.post(url + "step/", data).status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and case.resolution == "replacement"
    page = deputy_client.get(url)
    assert page.status_code == 200 and 'data-testid="step-form"' not in page.text
    assert deputy_client.post(url + "comment/", {"text": "回访满意"}).status_code == 302
    assert "回访满意" in deputy_client.get(url).text


def test_open_a_case_from_an_order(org_a, group, member_in, deputy_client):
    member = member_in(group)
    order = OrderFactory(organization=org_a.org, member=member, community=group, status="paid")
    slug = org_a.org.slug
    form = deputy_client.get(f"/o/{slug}/care/new/?order={order.pk}")
    assert form.status_code == 200 and order.external_order_id in form.text
    response = deputy_client.post(
        f"/o/{slug}/care/new/",
        {
            "member": member.pk,
            "order": order.pk,
            "community": "",
            "kind": "after_sales",
            "priority": "normal",
            "subject": "胶囊怎么吃",
        },
    )
    case = Case.objects.for_org(org_a.org).get()
    assert response.status_code == 302 and response["Location"].endswith(f"/care/{case.pk}/")
    assert (case.order, case.community, case.assignee) == (order, group, org_a.deputy)
    bad = deputy_client.post(f"/o/{slug}/care/new/", {"member": member.pk, "kind": "complaint"})
    assert bad.status_code == 400


def test_assign_form(org_a, group):
    case = CaseFactory(organization=org_a.org, community=group)
    client = org_a.client_for(org_a.manager)
    url = f"/o/{org_a.org.slug}/care/{case.pk}/assign/"
    client.post(url, {"assignee": org_a.deputy.pk, "priority": "urgent"})
    case.refresh_from_db()
    assert case.assignee == org_a.deputy and case.priority == "urgent"
    client.post(url, {"assignee": org_a.analyst.pk, "priority": "urgent"})  # not a handler
    case.refresh_from_db()
    assert case.assignee == org_a.deputy


def test_settings_page(org_a, group):
    client = org_a.client_for(org_a.manager)
    url = f"/o/{org_a.org.slug}/care/settings/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "form": "settings",
            "first_response_minutes": "5",
            "service_start": "09:00",
            "service_end": "21:00",
            "complaint_keywords": "质量太差，退款, 投诉",
        },
    )
    assert response.status_code == 302
    settings = CareSettings.objects.for_org(org_a.org).get()
    assert settings.first_response_minutes == 5
    assert settings.complaint_keywords == ["质量太差", "退款", "投诉"]
    assert client.post(url, {"form": "settings", "first_response_minutes": "0"}).status_code == 400
    client.post(url, {"form": "keywords", "community": group.pk, "keywords": "不新鲜"})
    assert CommunityKeywords.objects.for_org(org_a.org).get().keywords == ["不新鲜"]
    client.post(url, {"form": "keywords", "community": group.pk, "inherit": "on"})
    assert not CommunityKeywords.objects.for_org(org_a.org).exists()
    client.post(
        url,
        {
            "form": "rule",
            "name": "收货回访",
            "trigger": "delivered",
            "delay_hours": "72",
            "channel": "staff",
            "message": "@{name} 用了吗？",
        },
    )
    rule = FollowUpRule.objects.for_org(org_a.org).get()
    client.post(f"/o/{org_a.org.slug}/care/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert not rule.is_active


def test_overview_shows_the_counts(org_a, group):
    from django.utils import timezone

    now = timezone.now()
    CaseFactory(organization=org_a.org, community=group)
    CaseFactory(
        organization=org_a.org,
        community=group,
        first_response_due_at=now - timezone.timedelta(minutes=5),
    )
    page = org_a.client_for(org_a.owner).get(f"/o/{org_a.org.slug}/")
    assert page.status_code == 200
    assert 'data-testid="care-open">2<' in page.text
    assert 'data-testid="care-overdue">1<' in page.text


def test_deputy_reopens_a_closed_case_from_its_page(org_a, group, deputy_client):
    case = CaseFactory(organization=org_a.org, community=group, assignee=org_a.deputy)
    url = f"/o/{org_a.org.slug}/care/{case.pk}/"
    assert 'data-testid="reopen-form"' not in deputy_client.get(url).text
    for step in ["responded", "acknowledged", "resolved", "followed_up", "closed"]:
        deputy_client.post(url + "step/", {"step": step, "resolution": "replacement"})
    assert 'data-testid="reopen-form"' in deputy_client.get(url).text
    assert deputy_client.post(url + "reopen/", {"reason": ""}).status_code == 302
    assert Case.objects.for_org(org_a.org).get(pk=case.pk).status == "closed"
    assert deputy_client.post(url + "reopen/", {"reason": "补发的也坏了"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "acknowledged" and case.reopen_count == 1
    page = deputy_client.get(url)
    assert 'data-testid="reopened"' in page.text and "补发的也坏了" in page.text
    assert 'data-testid="step-form"' in page.text
