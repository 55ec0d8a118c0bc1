"""What member care tells staff through the bell and email (tenancy/notify.py):

- `care.case_assigned`: a case was given to you (opened with you as the group's handler, or
  handed to you), unless you did it yourself;
- `care.case_due`: a case's first response is due within `lead(settings)` and nobody has
  responded (the scan `alert_due_cases`, every minute from beat). It goes to the assignee, or
  to the organization's owners and managers when the case has none.

Both are keyed by the case (and the assignment), so each is said once per person.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenancy import notify

from .models import NOT_CLOSED, Case

ASSIGNED = "care.case_assigned"
DUE = "care.case_due"
DUE_SOON = timedelta(minutes=5)
# Cases whose deadline passed longer ago than this are not announced any more (a scan that was
# down for days, or the first run after an upgrade, does not flood anyone).
LOOK_BACK = timedelta(hours=12)
MAX_PER_RUN = 500


def register() -> None:
    notify.register_kind(
        ASSIGNED,
        label=gettext_lazy("A case (complaint, after-sales question) is assigned to me"),
        render=lambda p, org: (
            _("Case #%(case)s is assigned to you: %(subject)s")
            % {"case": p["case"], "subject": p["subject"]}
        ),
        order=10,
    )
    notify.register_kind(
        DUE,
        label=gettext_lazy("A case's first response is about to be late"),
        render=lambda p, org: (
            _("Case #%(case)s needs its first response by %(due)s: %(subject)s")
            % {"case": p["case"], "due": notify.local_time(p["due"], org), "subject": p["subject"]}
        ),
        order=20,
    )


def _url(org, case) -> str:
    return reverse("care-case", kwargs={"org_slug": org.slug, "pk": case.pk})


def _params(case) -> dict:
    return {"case": case.pk, "subject": case.subject[:200]}


def case_assigned(case, *, actor, key: str) -> None:
    """Tell the case's assignee it is theirs (call inside the assigning transaction). `key`
    tells one assignment from another: the opening, or the timeline entry of a hand-over."""
    if case.assignee_id is None:
        return
    if actor is not None and actor.user is not None and actor.user.pk == case.assignee_id:
        return  # took it themself
    notify.notify(
        organization=case.organization,
        user_ids=[case.assignee_id],
        kind=ASSIGNED,
        key=f"case:{case.pk}:assigned:{key}",
        params=_params(case),
        url=_url(case.organization, case),
    )


def cases_assigned(org, cases) -> None:
    """`case_assigned` for cases opened in bulk (complaint keywords in a batch of events)."""
    notify.notify_many(
        org,
        [
            notify.Notice(
                user_ids=[case.assignee_id],
                kind=ASSIGNED,
                key=f"case:{case.pk}:assigned:opened",
                params=_params(case),
                url=_url(org, case),
            )
            for case in cases
            if case.assignee_id is not None
        ],
    )


def lead(care_settings) -> timedelta:
    """How long before the deadline staff are told: five minutes, or half the allowed time
    when that is shorter (a 4-minute target warns 2 minutes ahead)."""
    return min(DUE_SOON, timedelta(minutes=care_settings.first_response_minutes) / 2)


def alert_due_cases(org, now=None) -> int:
    """Tell staff of the cases whose first response is due soon (or just passed) with none
    given. Returns how many people were told now."""
    from .services import settings_for  # services import this module

    now = now or timezone.now()
    cases = list(
        Case.objects.for_org(org)
        .filter(
            responded_at=None,
            status__in=NOT_CLOSED,
            first_response_due_at__lte=now + lead(settings_for(org)),
            first_response_due_at__gt=now - LOOK_BACK,
        )
        .order_by("first_response_due_at", "pk")[:MAX_PER_RUN]
    )
    if not cases:
        return 0
    # no assignee: whoever handles cases organization-wide (owners and managers)
    fallback = (
        notify.people_with(org, "care.manage") if any(c.assignee_id is None for c in cases) else []
    )
    notices = [
        notify.Notice(
            user_ids=[case.assignee_id] if case.assignee_id else fallback,
            kind=DUE,
            key=f"case:{case.pk}:due",
            params={**_params(case), "due": case.first_response_due_at.isoformat()},
            url=_url(org, case),
        )
        for case in cases
    ]
    return notify.notify_many(org, notices)
