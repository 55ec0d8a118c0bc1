"""Setting duties, retiring them, ticking the ones Qunyun cannot see by hand."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Community, CommunityStatus, StaffAssignment
from core.errors import Conflict
from tenancy import audit
from tenancy.permissions import can, require
from tenancy.roles import CommunityRole

from ..models import MAX_QUOTA, Duty, DutyMeasure, DutyPeriod, DutyTick
from ..weeks import today as local_today

# How far back a duty may be ticked: last week's, not last month's.
TICK_DAYS_BACK = 7


def _clean_text(value, field, limit) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError({field: [_("Null characters are not allowed.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("Use at most %(n)s characters.") % {"n": limit}]})
    return value


def duty_create(
    *,
    actor,
    title,
    role,
    measure,
    period,
    quota,
    community=None,
    within_hours=2,
) -> Duty:
    """A duty for a role: `quota` of `measure` every `period`, in every group or one."""
    require(actor, "duty.manage")
    org = actor.organization
    errors = {}
    title = _clean_text(title, "title", 100)
    if not title:
        errors["title"] = [_("This field is required.")]
    if role not in CommunityRole.values:
        errors["role"] = [_("Choose one of the listed options.")]
    if measure not in DutyMeasure.values:
        errors["measure"] = [_("Choose one of the listed options.")]
    if period not in DutyPeriod.values:
        errors["period"] = [_("Choose one of the listed options.")]
    limit = 100 if measure == DutyMeasure.GREETINGS else MAX_QUOTA
    if not isinstance(quota, int) or not 1 <= quota <= limit:
        errors["quota"] = [
            _("Enter a whole number from 1 to %(n)s.") % {"n": limit}
            if measure != DutyMeasure.GREETINGS
            else _("Enter a percentage from 1 to 100.")
        ]
    if not isinstance(within_hours, int) or not 1 <= within_hours <= 72:
        errors["within_hours"] = [_("Enter a number of hours from 1 to 72.")]
    if community is not None and (
        community.organization_id != org.pk or community.status != CommunityStatus.ACTIVE
    ):
        errors["community"] = [_("Choose one of the listed options.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        duty = Duty.objects.create(
            organization=org,
            title=title,
            role=role,
            community=community,
            measure=measure,
            period=period,
            quota=quota,
            within_hours=within_hours,
            created_by=actor.user,
        )
        audit.record(actor=actor, action="teamwork.duty_create", obj=duty)
    return duty


def duty_retire(*, actor, duty) -> Duty:
    """Retire a duty: it stops counting from now; past weeks still show it."""
    require(actor, "duty.manage")
    with transaction.atomic():
        locked = Duty.objects.for_org(actor.organization).select_for_update().get(pk=duty.pk)
        if not locked.is_active:
            raise Conflict(_("This duty is already retired."))
        locked.is_active = False
        locked.retired_at = timezone.now()
        locked.save(update_fields=["is_active", "retired_at"])
        audit.record(actor=actor, action="teamwork.duty_retire", obj=locked)
    return locked


def holds_role(org, user, community, role) -> bool:
    return (
        StaffAssignment.objects.for_org(org)
        .filter(user=user, community=community, role=role, ended_at=None)
        .exists()
    )


def duty_tick(
    *, actor, duty, community, user=None, day: date | None = None, count=1, note=""
) -> DutyTick:
    """Tick a duty done by hand for `user` (default: the actor) in `community` on a local day
    of the last week. Staff tick their own duties; team managers may tick anyone's."""
    org = actor.organization
    user = user or actor.user
    if user is None:
        raise ValidationError(_("Only a person can tick a duty."))
    if community is None or community.organization_id != org.pk:
        raise ValidationError({"community": [_("Choose one of the listed options.")]})
    require(actor, "duty.tick", community)
    if user.pk != getattr(actor.user, "pk", None) and not can(actor, "team.manage"):
        raise PermissionDenied(_("You may tick only your own duties."))
    if duty.measure != DutyMeasure.MANUAL:
        raise ValidationError(_("Qunyun counts this duty by itself; it cannot be ticked."))
    if not duty.is_active:
        raise ValidationError(_("This duty is retired."))
    if duty.community_id not in (None, community.pk) or not holds_role(
        org, user, community, duty.role
    ):
        raise ValidationError(_("This duty is not theirs in that group."))
    today = local_today(org)
    day = day or today
    if not today - timedelta(days=TICK_DAYS_BACK) <= day <= today:
        raise ValidationError(
            {"day": [_("Tick a day of the last %(n)s days.") % {"n": TICK_DAYS_BACK}]}
        )
    if not isinstance(count, int) or not 1 <= count <= 100:
        raise ValidationError({"count": [_("Enter a whole number from 1 to %(n)s.") % {"n": 100}]})
    note = _clean_text(note, "note", 200)
    with transaction.atomic():
        tick = DutyTick.objects.create(
            organization=org,
            duty=duty,
            community=community,
            user=user,
            day=day,
            count=count,
            note=note,
            created_by_label=str(actor.label)[:200],
        )
        audit.record(
            actor=actor,
            action="teamwork.duty_tick",
            obj=duty,
            summary=f"{community.name} · {day.isoformat()} · {user}",
        )
    return tick


def tick_undo(*, actor, tick) -> DutyTick:
    """Take a tick back (kept, marked undone)."""
    org = actor.organization
    require(actor, "duty.tick", Community.objects.for_org(org).get(pk=tick.community_id))
    if tick.user_id != getattr(actor.user, "pk", None) and not can(actor, "team.manage"):
        raise PermissionDenied(_("You may tick only your own duties."))
    with transaction.atomic():
        locked = DutyTick.objects.for_org(org).select_for_update().get(pk=tick.pk)
        if locked.undone_at is not None:
            raise Conflict(_("This tick is already taken back."))
        locked.undone_at = timezone.now()
        locked.save(update_fields=["undone_at"])
        audit.record(
            actor=actor,
            action="teamwork.duty_untick",
            obj=locked.duty,
            summary=f"{locked.day.isoformat()} · {locked.user}",
        )
    return locked
