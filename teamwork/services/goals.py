"""Setting goals, recording when they are met, raising a met goal, dropping one."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import CommunityKind, CommunityStatus
from core.errors import Conflict
from core.formatting import num
from tenancy import audit
from tenancy.actors import Actor
from tenancy.permissions import require

from ..models import COUNT_FIGURES, RATE_FIGURES, Goal, GoalFigure, GoalStatus
from ..selectors.goals import Values
from ..weeks import today as local_today

MAX_YEARS_AHEAD = 5
MAX_TARGET = Decimal("999999999999")


def _clean_target(figure, target) -> Decimal:
    try:
        target = Decimal(str(target)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"target": [_("Enter a number.")]}) from None
    if not target.is_finite() or target <= 0:
        raise ValidationError({"target": [_("Enter a target above zero.")]})
    if figure in RATE_FIGURES and target > 100:
        raise ValidationError({"target": [_("A rate's target is a percentage up to 100.")]})
    if figure in COUNT_FIGURES and target != target.to_integral_value():
        raise ValidationError({"target": [_("Enter a whole number.")]})
    if target > MAX_TARGET:
        raise ValidationError({"target": [_("Enter a smaller number.")]})
    return target


def _clean_due(org, due_on) -> date:
    today = local_today(org)
    if not isinstance(due_on, date):
        raise ValidationError({"due_on": [_("Enter a date as YYYY-MM-DD.")]})
    if due_on <= today:
        raise ValidationError({"due_on": [_("Choose a date after today.")]})
    if due_on > today + timedelta(days=366 * MAX_YEARS_AHEAD):
        raise ValidationError(
            {"due_on": [_("Choose a date within %(n)s years.") % {"n": MAX_YEARS_AHEAD}]}
        )
    return due_on


def goal_create(
    *, actor, figure, target, due_on, community=None, loyal_days=None, group_kind=""
) -> Goal:
    """A goal for the organization (no group) or one group. The figure as it is now is kept as
    the goal's starting point."""
    require(actor, "goal.manage")
    org = actor.organization
    if figure not in GoalFigure.values:
        raise ValidationError({"figure": [_("Choose one of the listed options.")]})
    if community is not None and (
        community.organization_id != org.pk or community.status != CommunityStatus.ACTIVE
    ):
        raise ValidationError({"community": [_("Choose one of the listed options.")]})
    if figure == GoalFigure.GROUPS and community is not None:
        raise ValidationError(
            {"community": [_("The number of groups is a goal of the whole organization.")]}
        )
    if figure == GoalFigure.LOYAL:
        if not isinstance(loyal_days, int) or not 1 <= loyal_days <= 30:
            raise ValidationError(
                {"loyal_days": [_("Enter how many of the last 30 days, from 1 to 30.")]}
            )
    else:
        loyal_days = None
    group_kind = group_kind or ""
    if figure != GoalFigure.GROUPS:
        group_kind = ""
    elif group_kind not in ("", *CommunityKind.values):
        raise ValidationError({"group_kind": [_("Choose one of the listed options.")]})
    target = _clean_target(figure, target)
    due_on = _clean_due(org, due_on)
    values = Values.where(org, community)
    baseline = values.value(figure, community.pk if community else None, loyal_days, group_kind)
    with transaction.atomic():
        goal = Goal.objects.create(
            organization=org,
            community=community,
            figure=figure,
            target=target,
            loyal_days=loyal_days,
            group_kind=group_kind,
            baseline=baseline or Decimal("0"),
            starts_on=values.today,
            due_on=due_on,
            created_by=actor.user,
        )
        audit.record(
            actor=actor,
            action="teamwork.goal_create",
            obj=goal,
            summary=_describe(goal),
        )
    return goal


def _describe(goal) -> str:
    where = goal.community.name if goal.community_id else _("the organization")
    return _("%(figure)s of %(where)s: %(target)s by %(date)s") % {
        "figure": goal.get_figure_display(),
        "where": where,
        "target": num(goal.target),
        "date": goal.due_on.isoformat(),
    }


def _mark_met(actor, goal, value) -> None:
    goal.status = GoalStatus.MET
    goal.met_at = timezone.now()
    goal.met_value = value
    goal.save(update_fields=["status", "met_at", "met_value"])
    audit.record(
        actor=actor,
        action="teamwork.goal_met",
        obj=goal,
        summary=_("%(what)s — now %(value)s") % {"what": _describe(goal), "value": num(value)},
    )


def goals_check(org) -> int:
    """Record the open goals whose figure reached the target (the hourly job). Returns how
    many were met."""
    actor = Actor.system(org, _("goal check"))
    open_goals = list(
        Goal.objects.for_org(org).filter(status=GoalStatus.OPEN).select_related("community")
    )
    if not open_goals:
        return 0
    values = Values(org, open_goals)
    met = 0
    for goal in open_goals:
        value = values.of(goal)
        if value is None or value < goal.target:
            continue
        with transaction.atomic():
            locked = Goal.objects.for_org(org).select_for_update().get(pk=goal.pk)
            if locked.status != GoalStatus.OPEN:
                continue  # raised, dropped or met by someone else meanwhile
            _mark_met(actor, locked, value)
            met += 1
    return met


def goal_raise(*, actor, goal, target, due_on) -> Goal:
    """Raise a met goal (000 三: set it step by step, 依次提高): a new goal with the higher
    target takes its place; the met one is kept, marked raised."""
    require(actor, "goal.manage")
    org = actor.organization
    target = _clean_target(goal.figure, target)
    due_on = _clean_due(org, due_on)
    values = Values(org, [goal])
    value = values.of(goal)
    with transaction.atomic():
        locked = Goal.objects.for_org(org).select_for_update().get(pk=goal.pk)
        if locked.status == GoalStatus.OPEN and value is not None and value >= locked.target:
            _mark_met(actor, locked, value)
        if locked.status != GoalStatus.MET:
            raise Conflict(_("Only a goal that is met can be raised."))
        if target <= locked.target:
            raise ValidationError(
                {"target": [_("Raise it above %(n)s.") % {"n": num(locked.target)}]}
            )
        raised = Goal.objects.create(
            organization=org,
            community=locked.community,
            figure=locked.figure,
            target=target,
            loyal_days=locked.loyal_days,
            group_kind=locked.group_kind,
            baseline=value if value is not None else locked.target,
            starts_on=values.today,
            due_on=due_on,
            previous=locked,
            created_by=actor.user,
        )
        locked.status = GoalStatus.RAISED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        audit.record(
            actor=actor,
            action="teamwork.goal_raise",
            obj=raised,
            summary=f"{num(locked.target)} → {_describe(raised)}",
        )
    return raised


def goal_drop(*, actor, goal) -> Goal:
    """Stop following a goal (kept, marked dropped)."""
    require(actor, "goal.manage")
    with transaction.atomic():
        locked = Goal.objects.for_org(actor.organization).select_for_update().get(pk=goal.pk)
        if not locked.is_live:
            raise Conflict(_("This goal is no longer followed."))
        locked.status = GoalStatus.DROPPED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        audit.record(
            actor=actor, action="teamwork.goal_drop", obj=locked, summary=_describe(locked)
        )
    return locked
