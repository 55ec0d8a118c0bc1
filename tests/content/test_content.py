from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from communities import content
from communities import services as community_services
from communities.models import PostStatus, ScheduledPost
from integrations.models import Action

from ..concurrency import run_concurrently

SHANGHAI = ZoneInfo("Asia/Shanghai")  # org_a's time zone

WEEK = [
    {
        "weekday": 0,
        "local_time": time(20, 0),
        "content_type": "tips",
        "template": "周一干货：{community}",
    },
    {
        "weekday": 2,
        "local_time": time(20, 0),
        "content_type": "member_story",
        "template": "周三成员故事",
    },
    {
        "weekday": 4,
        "local_time": time(19, 30),
        "content_type": "deal_preview",
        "template": "周五福利预告",
    },
    {"weekday": 6, "local_time": time(21, 0), "content_type": "discussion", "template": "周日话题"},
]


@pytest.fixture
def two_groups(org_a):
    actor = org_a.actor()
    return [community_services.community_create(actor=actor, name=f"群{i}") for i in range(2)]


# Monday 10:00 in Shanghai: the 14 days ahead (today included) hold the Monday 20:00 slot three
# times (today, in one and in two weeks) and the other three slots twice each.
@pytest.mark.time_machine(datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_plan_lays_out_two_weeks_for_each_group_idempotently(org_a, two_groups):
    plan = content.plan_save(
        actor=org_a.actor(), name="每周内容", communities=two_groups, slots=WEEK
    )
    posts = ScheduledPost.objects.for_org(org_a.org).filter(plan=plan)
    assert posts.count() == (3 + 2 + 2 + 2) * 2  # slot occurrences × 2 groups
    assert content.materialize(org_a.org) == 0  # running again adds nothing
    first = posts.filter(content_type="tips").order_by("scheduled_at").first()
    assert first.scheduled_at == datetime(2026, 11, 16, 20, 0, tzinfo=SHANGHAI)  # today's
    assert first.text == f"周一干货：{first.community.name}"
    local = first.scheduled_at.astimezone(org_a.org.tzinfo)
    assert (local.weekday(), local.hour) == (0, 20)


def test_editing_and_skipping_one_occurrence_leaves_the_plan_alone(org_a, two_groups):
    actor = org_a.actor()
    plan = content.plan_save(actor=actor, name="计划", communities=two_groups, slots=WEEK)
    post = (
        ScheduledPost.objects.for_org(org_a.org).filter(plan=plan).order_by("scheduled_at").first()
    )
    content.post_update(actor=actor, post=post, text="改过的文字")
    other = ScheduledPost.objects.for_org(org_a.org).filter(plan=plan).exclude(pk=post.pk).first()
    content.post_skip(actor=actor, post=other)
    content.plan_save(actor=actor, name="计划", communities=two_groups, slots=WEEK[:1], plan=plan)
    post.refresh_from_db()
    other.refresh_from_db()
    assert post.text == "改过的文字" and post.status == "scheduled"  # edited: kept
    assert other.status == "skipped"
    with pytest.raises(ValidationError):
        content.post_update(actor=actor, post=other, text="x")


def test_bad_plans_are_refused(org_a, two_groups):
    actor = org_a.actor()
    for kwargs in (
        {"communities": [], "slots": WEEK},
        {"communities": two_groups, "slots": []},
        {"communities": two_groups, "slots": [{**WEEK[0], "weekday": 9}]},
        {"communities": two_groups, "slots": [{**WEEK[0], "template": "x" * 2001}]},
    ):
        with pytest.raises(ValidationError):
            content.plan_save(actor=actor, name="坏计划", **kwargs)
    assert not ScheduledPost.objects.for_org(org_a.org).exists()


def test_approval_switch_makes_officers_draft(org_a, two_groups):
    org = org_a.org
    org.require_post_approval = True
    org.save()
    community_services.staff_assign(
        actor=org_a.actor(), community=two_groups[0], user=org_a.deputy, role="content_officer"
    )
    officer = org_a.actor(org_a.deputy)
    post = content.post_create(
        actor=officer,
        community=two_groups[0],
        scheduled_at=timezone.now() + timedelta(hours=2),
        text="草稿",
    )
    assert post.status == "draft"
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied: officers do not approve
        content.post_approve(actor=officer, post=post)
    content.post_approve(actor=org_a.actor(), post=post)
    assert post.status == "scheduled"


def test_dispatcher_publishes_due_posts_once(org_a, two_groups):
    actor = org_a.actor()
    soon = timezone.now() + timedelta(minutes=5)
    posts = [
        content.post_create(actor=actor, community=c, scheduled_at=soon, text="开播啦")
        for c in two_groups
    ]
    assert content.dispatch_due(org_a.org) == 0  # not yet due
    later = soon + timedelta(minutes=1)
    assert content.dispatch_due(org_a.org, now=later) == 2
    assert content.dispatch_due(org_a.org, now=later) == 0
    for post in posts:
        post.refresh_from_db()
        assert post.status == "sent" and post.action.kind == "post.publish"
        assert post.action.payload["text"] == "开播啦"


def test_overdue_posts_still_go_out_after_an_outage(org_a, two_groups):
    """Posts live in the database, not in the broker: if Redis (and so the workers) were down,
    the first dispatcher run afterwards sends everything that fell due meanwhile."""
    post = content.post_create(
        actor=org_a.actor(),
        community=two_groups[0],
        scheduled_at=timezone.now() + timedelta(minutes=1),
        text="x",
    )
    assert content.dispatch_due(org_a.org, now=timezone.now() + timedelta(hours=3)) == 1
    post.refresh_from_db()
    assert post.status == "sent"


# Half a minute before midnight in Shanghai, where this test once broke (its four posts
# straddled local midnight); the heatmap's 2026-11-16 messages stay inside its window.
@pytest.mark.time_machine(datetime(2026, 11, 18, 23, 59, 30, tzinfo=SHANGHAI), tick=False)
def test_daily_limit_warning_and_heatmap(org_a, two_groups, client):
    from tests.members.conftest import ev

    actor = org_a.actor()
    # Noon tomorrow in the org's zone: four posts a minute apart fall on one local day.
    tomorrow = timezone.localdate(timezone.now(), org_a.org.tzinfo) + timedelta(days=1)
    day = datetime.combine(tomorrow, time(12), tzinfo=org_a.org.tzinfo)
    for i in range(4):
        content.post_create(
            actor=actor,
            community=two_groups[0],
            scheduled_at=day + timedelta(minutes=i),
            text=f"帖{i}",
        )
    warnings = content.daily_overload(org_a.org)
    assert warnings and warnings[0]["count"] == 4 and warnings[0]["limit"] == 3
    community_services.community_update(actor=actor, community=two_groups[1], external_id="hm")
    events = [ev("message.posted", community="hm", user=f"u{i}") for i in range(5)]
    for e in events:
        e["occurred_at"] = datetime(
            2026, 11, 16, 12, 30, tzinfo=UTC
        ).isoformat()  # Mon 20:30 Shanghai
    from ingestion.pipeline import ingest_events

    ingest_events(actor=actor, raw_events=events)
    from metrics import rollups

    rollups.refresh(org_a.org)
    grid = content.activity_heatmap(org_a.org, two_groups[1], weeks=520)
    assert grid[0][20] == 5 and content.suggested_slot(grid) == (0, 20)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_publish_each_post_exactly_once():
    from communities.models import Community
    from tenancy.services import organization_create

    org = organization_create(name="并发发帖", slug="dispatch-race", owner_email="d@example.com")
    community = Community.objects.create(organization=org, name="g", external_id="g")
    due = timezone.now() - timedelta(minutes=1)
    ScheduledPost.objects.bulk_create(
        [
            ScheduledPost(
                organization=org,
                community=community,
                scheduled_at=due,
                content_type="tips",
                text=str(i),
            )
            for i in range(1200)
        ]
    )
    counts = run_concurrently(lambda: content.dispatch_due(org))
    assert sum(counts) == 1200
    assert Action.objects.for_org(org).filter(kind="post.publish").count() == 1200
    assert not ScheduledPost.objects.for_org(org).exclude(status=PostStatus.SENT).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_running_the_dispatch_task_at_once_publish_once():
    """Two beat processes each queue `dispatch_posts`; two workers run them at the same time."""
    from communities.models import Community
    from communities.tasks import dispatch_posts
    from tenancy.services import organization_create

    org = organization_create(name="双 beat", slug="double-beat", owner_email="beat@example.com")
    community = Community.objects.create(organization=org, name="g", external_id="g")
    due = timezone.now() - timedelta(minutes=1)
    ScheduledPost.objects.bulk_create(
        [
            ScheduledPost(
                organization=org,
                community=community,
                scheduled_at=due,
                content_type="tips",
                text=str(i),
            )
            for i in range(800)
        ]
    )
    results = run_concurrently(lambda: dispatch_posts.apply(args=[org.pk]).get())
    assert sum(results) == 800
    assert Action.objects.for_org(org).filter(kind="post.publish").count() == 800
