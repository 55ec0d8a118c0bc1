"""The content calendar: weekly plans, the posts they produce, and the dispatcher that turns
due posts into `post.publish` actions exactly once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict
from integrations import outbox
from integrations.composer import MessageKind, compose, fill
from integrations.models import ActionKind, ActionStatus
from tenancy import audit
from tenancy.permissions import can, require

from . import hooks
from .models import (
    Community,
    ContentPlan,
    ContentType,
    PlanSlot,
    PlanTarget,
    PostStatus,
    ScheduledPost,
)

HORIZON_DAYS = 14
DEFAULT_POSTS_PER_DAY = 3  # a group without rules of its own
DISPATCH_CHUNK = 500
MAX_TEXT = 2000


def render(template: str, community: Community, **extra) -> str:
    """Fill a slot's template: {community}, {date} and anything in `extra`."""
    return fill(template, {"community": community.name, **extra})


def _clean_slots(slots) -> list[dict]:
    cleaned = []
    for slot in slots:
        template = (slot.get("template") or "").strip()
        if not template:
            continue
        if len(template) > MAX_TEXT or "\x00" in template:
            raise ValidationError({"slots": [_("A post text has at most 2000 characters.")]})
        weekday = slot.get("weekday")
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError({"slots": [_("Choose a weekday.")]})
        if not isinstance(slot.get("local_time"), time):
            raise ValidationError({"slots": [_("Give a time of day.")]})
        if slot.get("content_type") not in ContentType.values:
            raise ValidationError({"slots": [_("Choose a kind of content.")]})
        cleaned.append({**slot, "template": template})
    if not cleaned:
        raise ValidationError({"slots": [_("Add at least one weekly slot.")]})
    return cleaned


def plan_save(*, actor, name, communities, slots, plan=None) -> ContentPlan:
    """Create or replace a weekly plan, then lay out its posts for the next two weeks."""
    communities = list(communities)
    if not communities:
        raise ValidationError({"communities": [_("Choose at least one group.")]})
    for community in communities:
        require(actor, "content.draft", community)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Enter a name of at most 100 characters.")]})
    slots = _clean_slots(slots)
    org = actor.organization
    with transaction.atomic():
        creating = plan is None
        if creating:
            plan = ContentPlan.objects.create(organization=org, name=name, created_by=actor.user)
        else:
            plan.name = name
            plan.save(update_fields=["name"])
            # Old slots are kept (their past posts point at them), just no longer used.
            PlanSlot.objects.for_org(org).filter(plan=plan, is_active=True).update(is_active=False)
        # Targets are plain links: a group taken out of the plan is unlinked.
        PlanTarget.objects.for_org(org).filter(plan=plan).exclude(
            community__in=communities
        ).delete()
        PlanTarget.objects.bulk_create(
            [PlanTarget(organization=org, plan=plan, community=c) for c in communities],
            ignore_conflicts=True,
        )
        PlanSlot.objects.bulk_create(
            [PlanSlot(organization=org, plan=plan, **slot) for slot in slots]
        )
        _retire_stale_posts(org, plan)
        created = materialize(org, plan=plan, status=_initial_status(actor, communities))
        audit.record(
            actor=actor,
            action="content.plan_create" if creating else "content.plan_update",
            obj=plan,
            summary=_("%(slots)s weekly slots × %(groups)s groups: %(posts)s posts")
            % {"slots": len(slots), "groups": len(communities), "posts": created},
        )
    return plan


def _initial_status(actor, communities) -> str:
    """Drafts when the organization wants approval and the author may not approve."""
    if actor.organization.require_post_approval and not all(
        can(actor, "content.approve", c) for c in communities
    ):
        return PostStatus.DRAFT
    return PostStatus.SCHEDULED


def _retire_stale_posts(org, plan) -> None:
    """Future posts of the plan's old slots or groups that nobody edited: skipped, not deleted."""
    targets = PlanTarget.objects.for_org(org).filter(plan=plan).values("community_id")
    ScheduledPost.objects.for_org(org).filter(
        plan=plan,
        status__in=[PostStatus.DRAFT, PostStatus.SCHEDULED],
        edited=False,
        scheduled_at__gt=timezone.now(),
    ).exclude(slot__is_active=True, community_id__in=targets).update(status=PostStatus.SKIPPED)


def materialize(org, *, plan=None, status=PostStatus.SCHEDULED, now=None, days=HORIZON_DAYS) -> int:
    """Lay out the posts of active plans for the next `days` days (idempotent)."""
    now = now or timezone.now()
    tz = org.tzinfo
    slots = (
        PlanSlot.objects.for_org(org)
        .filter(is_active=True, plan__is_active=True)
        .select_related("plan")
    )
    if plan is not None:
        slots = slots.filter(plan=plan)
    targets: dict = {}
    for target in (
        PlanTarget.objects.for_org(org)
        .filter(plan__in={s.plan_id for s in slots})
        .select_related("community")
    ):
        if target.community.status == "active":
            targets.setdefault(target.plan_id, []).append(target.community)
    today = now.astimezone(tz).date()
    posts = []
    for slot in slots:
        for offset in range(days + 1):
            day = today + timedelta(days=offset)
            if day.weekday() != slot.weekday:
                continue
            at = datetime.combine(day, slot.local_time, tzinfo=tz)
            if at <= now:
                continue
            for community in targets.get(slot.plan_id, []):
                posts.append(
                    ScheduledPost(
                        organization=org,
                        community=community,
                        plan_id=slot.plan_id,
                        slot=slot,
                        local_date=day,
                        scheduled_at=at,
                        content_type=slot.content_type,
                        text=render(slot.template, community, date=day.isoformat()),
                        status=status,
                    )
                )
    before = ScheduledPost.objects.for_org(org).count()
    ScheduledPost.objects.bulk_create(posts, ignore_conflicts=True, batch_size=500)
    return ScheduledPost.objects.for_org(org).count() - before


def post_create(
    *, actor, community, scheduled_at, text, content_type=ContentType.CUSTOM
) -> ScheduledPost:
    """A one-off post."""
    require(actor, "content.draft", community)
    text = _clean_text(text)
    if scheduled_at <= timezone.now():
        raise ValidationError({"scheduled_at": [_("Choose a time in the future.")]})
    with transaction.atomic():
        post = ScheduledPost.objects.create(
            organization=actor.organization,
            community=community,
            scheduled_at=scheduled_at,
            content_type=content_type,
            text=text,
            status=_initial_status(actor, [community]),
            created_by=actor.user,
        )
        audit.record(actor=actor, action="content.post_create", obj=post, summary=text[:100])
    return post


def _clean_text(text) -> str:
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT or "\x00" in text:
        raise ValidationError({"text": [_("Write the post: 1 to 2000 characters.")]})
    return text


def _editable(post) -> None:
    if post.status not in (PostStatus.DRAFT, PostStatus.SCHEDULED):
        raise Conflict(_("Only a draft or scheduled post can be changed."))


def post_update(*, actor, post, text=None, scheduled_at=None) -> ScheduledPost:
    """Change one occurrence without touching its plan."""
    require(actor, "content.draft", post.community)
    _editable(post)
    fields = ["edited"]
    if text is not None:
        post.text = _clean_text(text)
        fields.append("text")
    if scheduled_at is not None:
        if scheduled_at <= timezone.now():
            raise ValidationError({"scheduled_at": [_("Choose a time in the future.")]})
        post.scheduled_at = scheduled_at
        fields.append("scheduled_at")
    post.edited = True
    needs_approval = actor.organization.require_post_approval and not can(
        actor, "content.manage", post.community
    )
    if post.status == PostStatus.SCHEDULED and needs_approval:
        post.status = PostStatus.DRAFT  # an officer's change goes back for approval
        fields.append("status")
    with transaction.atomic():
        post.save(update_fields=fields)
        audit.record(
            actor=actor,
            action="content.post_update",
            obj=post,
            summary=audit.field_labels(ScheduledPost, fields[1:]),
        )
    return post


def post_skip(*, actor, post) -> ScheduledPost:
    require(actor, "content.draft", post.community)
    _editable(post)
    with transaction.atomic():
        post.status, post.edited = PostStatus.SKIPPED, True
        post.save(update_fields=["status", "edited"])
        audit.record(actor=actor, action="content.post_skip", obj=post)
    return post


def post_approve(*, actor, post) -> ScheduledPost:
    require(actor, "content.approve", post.community)
    if post.status != PostStatus.DRAFT:
        raise Conflict(_("Only a draft can be approved."))
    with transaction.atomic():
        post.status = PostStatus.SCHEDULED
        post.save(update_fields=["status"])
        audit.record(actor=actor, action="content.post_approve", obj=post)
    return post


def dispatch_due(org, now=None) -> int:
    """Turn due scheduled posts into `post.publish` actions. Exactly once: each chunk is claimed
    with FOR UPDATE SKIP LOCKED and moved to `sent` in the transaction that writes its actions,
    so two dispatchers (or a restarted beat) never publish a post twice."""
    now = now or timezone.now()
    language = org.default_language
    dispatched = 0
    while True:
        with transaction.atomic():
            due = list(
                ScheduledPost.objects.for_org(org)
                .filter(status=PostStatus.SCHEDULED, scheduled_at__lte=now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("community")
                .order_by("scheduled_at", "pk")[:DISPATCH_CHUNK]
            )
            if not due:
                return dispatched
            actions = outbox.enqueue_all(
                [
                    outbox.build(
                        organization=org,
                        kind=ActionKind.PUBLISH,
                        community=post.community,
                        text=compose(MessageKind.POST, {"text": post.text}, language=language),
                        post_id=post.pk,
                        content_type=post.content_type,
                        scheduled_at=post.scheduled_at.isoformat(),
                    )
                    for post in due
                ]
            )
            for post, action in zip(due, actions, strict=True):
                post.status, post.action, post.sent_at = PostStatus.SENT, action, now
            ScheduledPost.objects.bulk_update(due, ["status", "action", "sent_at"])
            dispatched += len(due)


def daily_overload(org, community_ids=None, days=HORIZON_DAYS) -> list[dict]:
    """Days on which a group has more posts planned than its limit (a warning, not a block).
    Counted by the database, per group and local day: only the days over the limit come back."""
    now = timezone.now()
    posts = ScheduledPost.objects.for_org(org).filter(
        status__in=[PostStatus.DRAFT, PostStatus.SCHEDULED],
        scheduled_at__gte=now,
        scheduled_at__lt=now + timedelta(days=days),
    )
    if community_ids is not None:
        posts = posts.filter(community_id__in=community_ids)
    rows = (
        posts.values(
            "community_id", "community__name", day=TruncDate("scheduled_at", tzinfo=org.tzinfo)
        )
        .annotate(
            count=Count("pk"),
            limit=Coalesce(Max("community__rules__posts_per_day_limit"), DEFAULT_POSTS_PER_DAY),
        )
        .filter(count__gt=F("limit"))
        .order_by("day", "community__name")
    )
    return [
        {
            "community": r["community__name"],
            "day": r["day"],
            "count": r["count"],
            "limit": r["limit"],
        }
        for r in rows
    ]


def activity_heatmap(org, community, weeks=4) -> list[list[int]]:
    """Messages per hour of the week (7 × 24, Monday first) in the org's time zone, over the
    last `weeks` weeks: when members are around (from the metric rollups, through
    `hooks.activity_heatmap`); None when no app provides it."""
    grids = hooks.activity_heatmap(org=org, community=community, weeks=weeks)
    return grids[0] if grids else None


def suggested_slot(grid) -> tuple[int, int] | None:
    """(weekday, hour) with the most messages, or None without data."""
    best = max(
        ((n, wd, h) for wd, hours in enumerate(grid) for h, n in enumerate(hours)),
        default=(0, 0, 0),
    )
    return (best[1], best[2]) if best[0] else None


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def post_action_finished(*, action) -> None:
    """A bot's answer to a `post.publish` action: a failure shows on the post it came from
    (registered on `integrations.outbox.action_finished`)."""
    if action.kind == ActionKind.PUBLISH and action.status == ActionStatus.FAILED:
        ScheduledPost.objects.for_org(action.organization).filter(action=action).update(
            status=PostStatus.FAILED
        )
