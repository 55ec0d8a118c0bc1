"""After-sales follow-ups (seed 002, 售后跟进): rules make one task per (rule, order) once the
order's trigger time plus the rule's delay has passed. The periodic job selects due work by
state, so it catches orders from every source (bot-reported and campaign orders) and running
it twice, or on two workers, makes nothing twice: each rule is claimed with
`select_for_update(skip_locked=True)` and (rule, order) is unique."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import BOUGHT, Order
from core.errors import Conflict
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from members.models import MemberIdentity
from tenancy import audit
from tenancy.permissions import require

from .models import (
    CaseKind,
    CaseSource,
    FollowUpChannel,
    FollowUpRule,
    FollowUpStatus,
    FollowUpTask,
    FollowUpTrigger,
    OrderMilestone,
)
from .services import case_open, clean_choice, clean_text, default_assignees

PER_RULE_PER_RUN = 200


def render_message(template: str, order, language: str) -> str:
    """The rule's follow-up text for one order, through the composer."""
    items = "、".join(i.get("name", "") for i in (order.items or []) if i.get("name"))
    context = {
        "template": template,
        "name": order.member.display_name or "",
        "order": order.external_order_id,
        "items": items,
    }
    return compose(MessageKind.FOLLOW_UP, context, language=language)


def _due_orders(org, rule, now):
    orders = Order.objects.for_org(org).filter(status__in=BOUGHT)
    if rule.trigger == FollowUpTrigger.BOUGHT:
        orders = orders.annotate(trigger_at=Coalesce("paid_at", "placed_at"))
    else:
        orders = orders.annotate(
            trigger_at=Subquery(
                OrderMilestone.objects.for_org(org)
                .filter(order=OuterRef("pk"), kind=rule.trigger)
                .values("at")[:1]
            )
        )
    if rule.community_id:
        orders = orders.filter(community_id=rule.community_id)
    done = FollowUpTask.objects.for_org(org).filter(rule=rule, order=OuterRef("pk"))
    return (
        orders.filter(
            trigger_at__isnull=False,
            trigger_at__gte=rule.active_since,
            trigger_at__lte=now - timedelta(hours=rule.delay_hours),
        )
        .exclude(Exists(done))
        .select_related("member", "community")
        .order_by("trigger_at", "pk")[:PER_RULE_PER_RUN]
    )


def make_follow_ups(org, now=None) -> int:
    """Create the due follow-ups of every active rule; returns how many."""
    now = now or timezone.now()
    made = 0
    rule_ids = list(
        FollowUpRule.objects.for_org(org).filter(is_active=True).values_list("pk", flat=True)
    )
    for rule_id in rule_ids:
        with transaction.atomic():
            rule = (
                FollowUpRule.objects.for_org(org)
                .filter(pk=rule_id, is_active=True)
                .select_for_update(skip_locked=True)
                .first()
            )
            if rule is not None:
                made += _make_for_rule(org, rule, now)
    return made


def _make_for_rule(org, rule, now) -> int:
    orders = list(_due_orders(org, rule, now))
    if not orders:
        return 0
    tasks, actions = [], []
    identities = _identities(org, orders) if rule.channel == FollowUpChannel.BOT else {}
    assignees = default_assignees(org, {o.community_id for o in orders if o.community_id})
    for order in orders:
        text = render_message(rule.message, order, org.default_language)
        task = FollowUpTask(
            organization=org,
            rule=rule,
            order=order,
            member=order.member,
            community=order.community,
            channel=rule.channel,
            text=text,
            due_at=now,
            status=FollowUpStatus.OPEN,
        )
        if rule.channel == FollowUpChannel.BOT:
            identity = identities.get(
                (order.member_id, order.community.platform if order.community else None)
            ) or identities.get((order.member_id, None))
            if identity is None:  # nobody to message: leave it to staff
                task.channel = FollowUpChannel.STAFF
            else:
                task.status = FollowUpStatus.SENT
                task.action = outbox.build(
                    organization=org,
                    kind=ActionKind.NOTIFY,
                    community=order.community,
                    member=order.member,
                    user_external_id=identity.external_user_id,
                    display_name=identity.display_name or order.member.display_name,
                    platform=identity.platform,
                    text=text,
                    order_id=order.external_order_id,
                    follow_up_rule=rule.pk,
                )
                actions.append(task.action)
        if task.channel == FollowUpChannel.STAFF:
            task.assignee_id = assignees.get(order.community_id)
        tasks.append(task)
    if actions:
        outbox.enqueue_all(actions)
        for task in tasks:
            if task.action is not None:
                task.action_id = task.action.pk
    FollowUpTask.objects.bulk_create(tasks)
    return len(tasks)


def _identities(org, orders) -> dict:
    """{(member_id, platform): identity} and {(member_id, None): any identity}."""
    found: dict = {}
    rows = (
        MemberIdentity.objects.for_org(org)
        .filter(member_id__in={o.member_id for o in orders})
        .order_by("pk")
    )
    for identity in rows:
        found.setdefault((identity.member_id, identity.platform), identity)
        found.setdefault((identity.member_id, None), identity)
    return found


# --- rules and tasks by hand -----------------------------------------------------------------


def rule_create(*, actor, name, trigger, delay_hours, channel, message, community=None):
    require(actor, "care.manage")
    name = clean_text(name, "name", required=True, limit=100)
    message = clean_text(message, "message", required=True)
    trigger = clean_choice(trigger, FollowUpTrigger, "trigger")
    channel = clean_choice(channel, FollowUpChannel, "channel")
    try:
        delay_hours = int(delay_hours)
    except (TypeError, ValueError):
        delay_hours = -1
    if not 0 <= delay_hours <= 24 * 90:
        raise ValidationError({"delay_hours": [_("Give a number of hours from 0 to 2160.")]})
    if community is not None and community.organization_id != actor.organization.pk:
        raise ValidationError(_("That object belongs to another organization."))
    with transaction.atomic():
        rule = FollowUpRule.objects.create(
            organization=actor.organization,
            name=name,
            trigger=trigger,
            delay_hours=delay_hours,
            channel=channel,
            message=message,
            community=community,
        )
        audit.record(actor=actor, action="care.rule_create", obj=rule, summary=name)
    return rule


def rule_set_active(*, actor, rule, active: bool):
    """Pause or resume a rule. Resuming starts afresh: orders from the pause are skipped."""
    require(actor, "care.manage")
    with transaction.atomic():
        fields = {"is_active": active}
        if active and not rule.is_active:
            fields["active_since"] = timezone.now()
        FollowUpRule.objects.for_org(actor.organization).filter(pk=rule.pk).update(**fields)
        audit.record(
            actor=actor, action="care.rule_resume" if active else "care.rule_pause", obj=rule
        )
    rule.refresh_from_db()
    return rule


def _require_task(actor, task):
    if task.community is not None:
        require(actor, "care.manage", task.community)
    else:
        require(actor, "care.manage")


def follow_up_finish(*, actor, task, outcome, note="", open_case=False):
    """Staff finish a follow-up: `done` (asked; optionally opening a case for a problem the
    member raised) or `skipped`."""
    _require_task(actor, task)
    if outcome not in (FollowUpStatus.DONE, FollowUpStatus.SKIPPED):
        raise ValidationError({"outcome": [_("Choose one of the listed options.")]})
    note = clean_text(note, "note", limit=500)
    org = actor.organization
    with transaction.atomic():
        locked = FollowUpTask.objects.for_org(org).select_for_update().get(pk=task.pk)
        if locked.status not in (FollowUpStatus.OPEN, FollowUpStatus.SENT):
            raise Conflict(_("This follow-up is already finished."))
        case = None
        if open_case:
            case = case_open(
                actor=actor,
                member=task.member,
                kind=CaseKind.QUESTION,
                subject=note or task.rule.name,
                community=task.community,
                order=task.order,
                text=note,
                source=CaseSource.FOLLOW_UP,
            )
        FollowUpTask.objects.for_org(org).filter(pk=task.pk).update(
            status=outcome,
            done_at=timezone.now(),
            done_by_label=str(actor.label)[:200],
            note=note,
            case=case,
        )
        audit.record(actor=actor, action=f"care.follow_up_{outcome}", obj=locked, summary=note)
    locked.refresh_from_db()
    return locked
