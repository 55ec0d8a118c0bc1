"""Cases: open one, move it one step, comment, assign, reopen."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import OrderStatus
from campaigns.services import order_refund
from care import alerts, sla
from care.models import (
    STEPS,
    CareSettings,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseSource,
    CaseStatus,
    Priority,
    Resolution,
)
from communities.models import StaffAssignment
from core import text as core_text
from core.errors import Conflict
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from tenancy import audit
from tenancy.actors import Actor
from tenancy.models import OrgMembership
from tenancy.permissions import COMMUNITY_ROLE_CAPABILITIES, can, require, require_for
from tenancy.roles import CommunityRole

MAX_TEXT = 2000
# Who is alerted first: the group's deputy (seed 002's 副团长 answers the group), then the rest.
ASSIGNEE_ORDER = [
    CommunityRole.DEPUTY,
    CommunityRole.SUB_OWNER,
    CommunityRole.BENEFITS_OFFICER,
    CommunityRole.TOPIC_OFFICER,
    CommunityRole.CONTENT_OFFICER,
]


def settings_for(org) -> CareSettings:
    """The organization's care settings (defaults when never saved)."""
    return CareSettings.objects.for_org(org).first() or CareSettings(organization=org)


def clean_text(value, field, *, required=False, limit=MAX_TEXT) -> str:
    return core_text.clean_text(value, field, required=required, limit=limit)


def clean_choice(value, choices, field) -> str:
    if value not in choices.values:
        raise ValidationError({field: [_("Choose one of the listed options.")]})
    return value


def require_case(actor, case) -> None:
    if case.community is not None:
        require(actor, "care.manage", case.community)
    else:
        require(actor, "care.manage")


def _event(actor, case, kind, text="", step="", at=None) -> CaseEvent:
    return CaseEvent.objects.create(
        organization=case.organization,
        case=case,
        kind=kind,
        step=step,
        text=text,
        actor_user=actor.user,
        actor_label=str(actor.label)[:200],
        created_at=at or timezone.now(),
    )


# --- assignment ------------------------------------------------------------------------------


def default_assignees(org, community_ids) -> dict:
    """{community_id: user_id} of who handles cases by default: the deputy first, then others
    holding care.manage in the group (one query for any number of groups)."""
    rank = {role: i for i, role in enumerate(ASSIGNEE_ORDER)}
    best: dict = {}
    rows = (
        StaffAssignment.objects.for_org(org)
        .filter(community_id__in=community_ids, ended_at=None)
        .order_by("assigned_at", "pk")
        .values_list("community_id", "user_id", "role")
    )
    for community_id, user_id, role in rows:
        if role not in rank or not _role_handles(role):
            continue
        if community_id not in best or rank[role] < best[community_id][0]:
            best[community_id] = (rank[role], user_id)
    return {community_id: user_id for community_id, (_r, user_id) in best.items()}


def _role_handles(role) -> bool:
    return "care.manage" in COMMUNITY_ROLE_CAPABILITIES.get(role, ())


def may_handle(org, user, community) -> bool:
    """Could this person handle cases of this group (org-wide or by a staff role)?"""
    membership = (
        OrgMembership.objects.for_org(org).filter(user=user, is_active=True).first()
        if user is not None
        else None
    )
    if membership is None:
        return False
    return can(Actor.for_user(membership), "care.manage", community)


# --- opening ---------------------------------------------------------------------------------


def _clock(org, opened_at):
    settings = settings_for(org)
    return sla.clock(
        opened_at,
        settings.first_response_minutes,
        org.tzinfo,
        settings.service_start,
        settings.service_end,
    )


def build_case(
    org,
    *,
    member,
    community,
    kind,
    subject,
    source,
    opened_at,
    opened_by_label,
    order=None,
    priority=Priority.NORMAL,
    assignee_id=None,
    source_event_id="",
    clock=None,
) -> Case:
    """An unsaved case with its clock (the keyword path inserts them in bulk)."""
    started, due = clock or _clock(org, opened_at)
    return Case(
        organization=org,
        member=member,
        community=community,
        order=order,
        kind=kind,
        priority=priority,
        subject=subject[:200],
        source=source,
        source_event_id=source_event_id,
        assignee_id=assignee_id,
        opened_at=opened_at,
        opened_by_label=opened_by_label[:200],
        clock_started_at=started,
        first_response_due_at=due,
        updated_at=opened_at,
    )


def case_open(
    *,
    actor,
    member,
    kind,
    subject,
    community=None,
    order=None,
    priority=Priority.NORMAL,
    assignee=None,
    text="",
    source=None,
) -> Case:
    """Open a case by hand or through the API. The group defaults to the order's; the assignee
    to the group's deputy. A member has at most one open complaint per group."""
    org = actor.organization
    for obj in (member, community, order):
        if obj is not None and obj.organization_id != org.pk:
            raise ValidationError(_("That object belongs to another organization."))
    kind = clean_choice(kind, CaseKind, "kind")
    priority = clean_choice(priority or Priority.NORMAL, Priority, "priority")
    subject = clean_text(subject, "subject", required=True, limit=200)
    text = clean_text(text, "text")
    if order is not None:
        if order.member_id != member.pk:
            raise ValidationError({"order": [_("This order is not this member's.")]})
        if community is None and order.community_id is not None:
            community = order.community
    if actor.member is not None:
        require_for(actor, "care.manage", member)
    elif community is not None:
        require(actor, "care.manage", community)
    else:
        require(actor, "care.manage")
    if assignee is not None and not may_handle(org, assignee, community):
        raise ValidationError({"assignee": [_("This person cannot handle cases of this group.")]})
    assignee_id = assignee.pk if assignee is not None else None
    if assignee_id is None and community is not None:
        assignee_id = default_assignees(org, [community.pk]).get(community.pk)
    if source is None:
        source = CaseSource.API if actor.api_key is not None else CaseSource.MANUAL
    now = timezone.now()
    case = build_case(
        org,
        member=member,
        community=community,
        kind=kind,
        subject=subject,
        source=source,
        opened_at=now,
        opened_by_label=str(actor.label),
        order=order,
        priority=priority,
        assignee_id=assignee_id,
    )
    try:
        with transaction.atomic():
            case.save()
            _event(actor, case, CaseEventKind.OPENED, text=text, at=now)
            audit.record(actor=actor, action="care.case_open", obj=case, summary=subject)
            alerts.case_assigned(case, actor=actor, key="opened")
    except IntegrityError:
        existing = open_complaint(org, member, community)
        raise Conflict(
            _("This member already has an open complaint in this group (case #%(n)s).")
            % {"n": existing.pk if existing else "?"}
        ) from None
    return case


def member_report(*, actor, order, kind, text) -> Case:
    """A member reports a problem with their own order on their page: a case in the queue of
    the order's group, with the member's words as its first entry."""
    text = clean_text(text, "text", required=True)
    subject = _("%(items)s (order %(order)s)") % {
        "items": order_items_text(order),
        "order": order.external_order_id[-8:],
    }
    return case_open(
        actor=actor,
        member=order.member,
        kind=kind,
        subject=subject,
        order=order,
        text=text,
        source=CaseSource.MEMBER_PAGE,
    )


def order_items_text(order) -> str:
    """ "白藜芦醇 × 2" for the order's items; the campaign's name when there are none."""
    items = [
        f"{item.get('name', '')} × {item.get('quantity', 1)}"
        for item in (order.items or [])
        if isinstance(item, dict) and item.get("name")
    ]
    if items:
        return _(", ").join(items)
    return order.campaign.name if order.campaign_id else order.external_order_id


def open_complaint(org, member, community):
    return (
        Case.objects.for_org(org)
        .filter(member=member, community=community, kind=CaseKind.COMPLAINT)
        .exclude(status=CaseStatus.CLOSED)
        .first()
    )


# --- the steps -------------------------------------------------------------------------------

STEP_FIELDS = {
    CaseStatus.RESPONDED: "responded_at",
    CaseStatus.ACKNOWLEDGED: "acknowledged_at",
    CaseStatus.RESOLVED: "resolved_at",
    CaseStatus.FOLLOWED_UP: "followed_up_at",
    CaseStatus.CLOSED: "closed_at",
}


def _locked(actor, case) -> Case:
    return (
        Case.objects.for_org(actor.organization)
        .select_for_update(of=("self",))
        .select_related("community", "member", "order")
        .get(pk=case.pk)
    )


def case_step(*, actor, case, step, note="", resolution="", reply="") -> Case:
    """Move the case to its next step (respond → acknowledge → resolve → follow up → close);
    no step may be skipped. Resolving needs the resolution; a refund on a case with a paid
    order refunds it through the campaigns' refund service. `reply`: the bot answers the
    member in the group (an outbox action)."""
    require_case(actor, case)
    if step not in STEP_FIELDS:
        raise ValidationError({"step": [_("Choose one of the listed options.")]})
    note = clean_text(note, "note")
    reply = clean_text(reply, "reply")
    with transaction.atomic():
        case = _locked(actor, case)
        if case.next_step != step:
            if case.status == CaseStatus.CLOSED:
                raise Conflict(_("This case is closed."))
            raise Conflict(
                {
                    "step": [
                        _("The next step of this case is “%(step)s”.")
                        % {"step": CaseStatus(case.next_step).label}
                    ]
                }
            )
        now = timezone.now()
        fields = ["status", "updated_at", STEP_FIELDS[step]]
        if step == CaseStatus.RESPONDED:
            case.responded_by = actor.user
            fields.append("responded_by")
        if step == CaseStatus.RESOLVED:
            case.resolution = clean_choice(resolution, Resolution, "resolution")
            case.resolved_by = actor.user
            fields += ["resolution", "resolved_by"]
        setattr(case, STEP_FIELDS[step], now)
        case.status = step
        case.updated_at = now
        case.save(update_fields=fields)
        text = note
        if step == CaseStatus.RESOLVED:
            text = f"{Resolution(case.resolution).label}" + (f": {note}" if note else "")
        _event(actor, case, CaseEventKind.STEP, text=text, step=step, at=now)
        if step == CaseStatus.RESOLVED and case.resolution == Resolution.REFUND:
            _refund(actor, case)
        if reply:
            _reply(actor, case, reply)
        audit.record(
            actor=actor, action=f"care.case_{step}", obj=case, summary=text or case.subject
        )
    return case


REOPENABLE = (CaseStatus.RESOLVED, CaseStatus.FOLLOWED_UP, CaseStatus.CLOSED)


def case_reopen(*, actor, case, reason) -> Case:
    """The member comes back: the problem is not solved after all. The case returns to
    "feelings acknowledged" and waits for a new resolution; the earlier resolution, follow-up
    and closing stay in its timeline. A refund already made is not undone."""
    require_case(actor, case)
    reason = clean_text(reason, "reason", required=True)
    try:
        with transaction.atomic():
            case = _locked(actor, case)
            if case.status not in REOPENABLE:
                raise Conflict(_("Only a resolved, followed-up or closed case can be reopened."))
            now = timezone.now()
            case.status = CaseStatus.ACKNOWLEDGED
            case.resolution = ""
            case.resolved_at = case.resolved_by = None
            case.followed_up_at = case.closed_at = None
            case.reopen_count += 1
            case.reopened_at = now
            case.updated_at = now
            case.save(
                update_fields=[
                    "status",
                    "resolution",
                    "resolved_at",
                    "resolved_by",
                    "followed_up_at",
                    "closed_at",
                    "reopen_count",
                    "reopened_at",
                    "updated_at",
                ]
            )
            _event(actor, case, CaseEventKind.REOPENED, text=reason, at=now)
            audit.record(actor=actor, action="care.case_reopen", obj=case, summary=reason)
    except IntegrityError:  # a newer complaint of the member in this group is still open
        existing = open_complaint(actor.organization, case.member, case.community)
        raise Conflict(
            _("This member already has an open complaint in this group (case #%(n)s).")
            % {"n": existing.pk if existing else "?"}
        ) from None
    return case


def _refund(actor, case) -> None:
    order = case.order
    if order is None:
        _event(actor, case, CaseEventKind.REFUND, text=_("Refund with no order on the case."))
        return
    if order.status == OrderStatus.PAID:
        order_refund(actor=actor, order=order)
        text = _("Order %(order)s refunded.") % {"order": order.external_order_id}
    elif order.status == OrderStatus.REFUNDED:
        text = _("Order %(order)s was already refunded.") % {"order": order.external_order_id}
    elif order.status == OrderStatus.PLACED:
        text = _(
            "Order %(order)s was reported by a bot: refund it where it was placed; the bot "
            "reports the refund."
        ) % {"order": order.external_order_id}
    else:
        raise Conflict(
            {"resolution": [_("This order was never paid: there is nothing to refund.")]}
        )
    _event(actor, case, CaseEventKind.REFUND, text=text)


def _reply(actor, case, text) -> None:
    if case.community is None:
        raise Conflict({"reply": [_("This case has no group to reply in.")]})
    identity = (
        case.member.identities.filter(platform=case.community.platform).order_by("pk").first()
    )
    if identity is None:
        raise Conflict({"reply": [_("The member has no identity on this platform.")]})
    message = compose(
        MessageKind.CARE_REPLY, {"text": text}, language=case.organization.default_language
    )
    payload = {"user_external_id": identity.external_user_id, "text": message, "case": case.pk}
    if case.source_event_id:  # `reply_to` as keyword replies say it; the old name stays too
        payload["reply_to"] = payload["reply_to_event_id"] = case.source_event_id
    outbox.enqueue(
        organization=actor.organization,
        kind=ActionKind.REPLY,
        community=case.community,
        member=case.member,
        display_name=identity.display_name or case.member.display_name,
        **payload,
    )
    _event(actor, case, CaseEventKind.REPLY, text=text)


def case_comment(*, actor, case, text) -> CaseEvent:
    require_case(actor, case)
    text = clean_text(text, "text", required=True)
    with transaction.atomic():
        event = _event(actor, case, CaseEventKind.COMMENT, text=text)
        Case.objects.for_org(actor.organization).filter(pk=case.pk).update(
            updated_at=event.created_at
        )
    return event


def case_assign(*, actor, case, assignee=None, priority=None) -> Case:
    """Hand the case to someone who may handle its group (None: unassigned), and/or change
    its priority."""
    require_case(actor, case)
    if priority is not None:
        priority = clean_choice(priority, Priority, "priority")
    if assignee is not None and not may_handle(actor.organization, assignee, case.community):
        raise ValidationError({"assignee": [_("This person cannot handle cases of this group.")]})
    with transaction.atomic():
        case = _locked(actor, case)
        changes = {}
        if case.assignee_id != (assignee.pk if assignee else None):
            changes["assignee"] = [case.assignee_id, assignee.pk if assignee else None]
            case.assignee = assignee
        if priority is not None and priority != case.priority:
            changes["priority"] = [case.priority, priority]
            case.priority = priority
        if not changes:
            return case
        case.updated_at = timezone.now()
        case.save(update_fields=["assignee", "priority", "updated_at"])
        parts = []
        if "assignee" in changes:
            parts.append(
                _("Assigned to %(who)s.") % {"who": assignee} if assignee else _("Unassigned.")
            )
        if "priority" in changes:
            parts.append(_("Priority: %(p)s.") % {"p": Priority(priority).label})
        event = _event(actor, case, CaseEventKind.ASSIGNED, text=" ".join(str(p) for p in parts))
        audit.record(actor=actor, action="care.case_assign", obj=case, changes=changes)
        if "assignee" in changes:
            alerts.case_assigned(case, actor=actor, key=str(event.pk))
    return case


def step_order() -> list[str]:
    return [str(s) for s in STEPS]
