from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from communities import content
from communities import services as community_services
from communities.models import ContentPlan, ScheduledPost


def _slots(**first):
    data = {
        "slots-TOTAL_FORMS": "2",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "1",
        "slots-MAX_NUM_FORMS": "21",
        "slots-0-weekday": "0",
        "slots-0-local_time": "20:00",
        "slots-0-content_type": "tips",
        "slots-0-template": "周一干货",
        "slots-1-template": "",
    }
    data.update({f"slots-0-{k}": v for k, v in first.items()})
    return data


# Monday 10:00 in Shanghai: the Monday 20:00 slot falls today, in one and in two weeks.
@pytest.mark.time_machine(
    datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
)
def test_plan_form_creates_and_rejects(org_a):
    groups = [
        community_services.community_create(actor=org_a.actor(), name=f"群{i}") for i in range(2)
    ]
    client = org_a.client_for(org_a.owner)
    url = f"/o/{org_a.org.slug}/plans/new/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "", "communities": [], **_slots(local_time="")})
    assert bad.status_code == 400 and not ContentPlan.objects.for_org(org_a.org).exists()
    ok = client.post(url, {"name": "计划", "communities": [g.pk for g in groups], **_slots()})
    assert ok.status_code == 302
    plan = ContentPlan.objects.for_org(org_a.org).get()
    assert ScheduledPost.objects.for_org(org_a.org).filter(plan=plan).count() == 3 * 2  # 2 groups
    edit = client.get(f"/o/{org_a.org.slug}/plans/{plan.pk}/edit/")
    assert "周一干货" in edit.content.decode()
    assert "计划" in client.get(f"/o/{org_a.org.slug}/plans/").content.decode()


def test_calendar_week_month_and_partial(org_a, django_assert_max_num_queries):
    group = community_services.community_create(actor=org_a.actor(), name="日历群")
    when = timezone.now() + timedelta(hours=3)
    post = content.post_create(
        actor=org_a.actor(), community=group, scheduled_at=when, text="今晚见"
    )
    client = org_a.client_for(org_a.owner)
    base = f"/o/{org_a.org.slug}/calendar/"
    day = when.astimezone(org_a.org.tzinfo).date().isoformat()
    with django_assert_max_num_queries(20):
        page = client.get(f"{base}?date={day}").content.decode()
    assert f"/posts/{post.pk}/" in page
    assert f"/posts/{post.pk}/" in client.get(f"{base}?date={day}&view=month").content.decode()
    partial = client.get(f"{base}?date={day}&community={group.pk}", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"heatmap" in partial.content
    assert client.get(f"{base}?date=garbage&view=nope&community=abc").status_code == 200


def test_calendar_shows_one_group_at_a_time_in_a_large_organization(org_a, monkeypatch):
    monkeypatch.setattr("communities.content_views.ALL_GROUPS_LIMIT", 1)
    first, second = (
        community_services.community_create(actor=org_a.actor(), name=name)
        for name in ("A 群", "B 群")
    )
    when = timezone.now() + timedelta(hours=3)
    posts = [
        content.post_create(actor=org_a.actor(), community=g, scheduled_at=when, text="今晚见")
        for g in (first, second)
    ]
    client = org_a.client_for(org_a.owner)
    base = f"/o/{org_a.org.slug}/calendar/"
    day = when.astimezone(org_a.org.tzinfo).date().isoformat()
    page = client.get(f"{base}?date={day}")
    html = page.content.decode()
    assert page.context["selected"] == first and page.context["one_at_a_time"]
    assert f"/posts/{posts[0].pk}/" in html and f"/posts/{posts[1].pk}/" not in html
    assert 'data-testid="calendar-one-group"' in html and "A 群" in html
    start = content.week_start(when.astimezone(org_a.org.tzinfo).date())
    assert start.isoformat() in html and (start + timedelta(days=6)).isoformat() in html
    # the next and previous weeks keep the group
    assert f"community={first.pk}" in html
    chosen = client.get(f"{base}?date={day}&community={second.pk}").content.decode()
    assert f"/posts/{posts[1].pk}/" in chosen and f"/posts/{posts[0].pk}/" not in chosen
    assert 'data-testid="calendar-one-group"' not in chosen
    every = client.get(f"{base}?date={day}&community=all")
    assert every.context["selected"] is None
    assert all(f"/posts/{p.pk}/" in every.content.decode() for p in posts)
    assert "community=all" in every.content.decode()


def test_post_create_edit_skip_and_bad_input(org_a):
    group = community_services.community_create(actor=org_a.actor(), name="帖子群")
    client = org_a.client_for(org_a.owner)
    new = f"/o/{org_a.org.slug}/posts/new/"
    past = client.post(
        new,
        {
            "community": group.pk,
            "scheduled_at": "2020-01-01T10:00",
            "content_type": "custom",
            "text": "x",
        },
    )
    assert past.status_code == 400
    later = (
        (timezone.now() + timedelta(days=2)).astimezone(org_a.org.tzinfo).strftime("%Y-%m-%dT%H:%M")
    )
    assert (
        client.post(
            new,
            {
                "community": group.pk,
                "scheduled_at": later,
                "content_type": "custom",
                "text": "活动通知",
            },
        ).status_code
        == 302
    )
    post = ScheduledPost.objects.for_org(org_a.org).get()
    edit = f"/o/{org_a.org.slug}/posts/{post.pk}/"
    client.post(edit, {"do": "save", "text": "活动通知（改）", "scheduled_at": later})
    post.refresh_from_db()
    assert post.text == "活动通知（改）" and post.edited
    client.post(edit, {"do": "skip"})
    post.refresh_from_db()
    assert post.status == "skipped"
    assert client.post(edit, {"do": "skip"}).status_code == 302  # a message, not a 500


def test_deputy_cannot_plan_but_content_officer_can(org_a):
    group = community_services.community_create(actor=org_a.actor(), name="官群")
    community_services.staff_assign(
        actor=org_a.actor(), community=group, user=org_a.deputy, role="deputy"
    )
    client = org_a.client_for(org_a.deputy)
    assert client.get(f"/o/{org_a.org.slug}/plans/new/").status_code == 403
    assert client.get(f"/o/{org_a.org.slug}/calendar/").status_code == 200
    community_services.staff_assign(
        actor=org_a.actor(), community=group, user=org_a.deputy, role="content_officer"
    )
    assert org_a.client_for(org_a.deputy).get(f"/o/{org_a.org.slug}/plans/new/").status_code == 200
