"""Telling staff what is theirs when it is urgent: the bell in the dashboard and email.

Apps above tenancy (care, campaigns) register the kinds they send in their
`AppConfig.ready` (`register_kind`) and call `notify` / `notify_many` inside the transaction of
the change or the scan that finds the thing:

    notify(organization=org, user_ids=[case.assignee_id], kind="care.case_assigned",
           key=f"case:{case.pk}:assigned:{event.pk}", params={"case": case.pk, ...},
           url=reverse("care-case", ...))

- **Once per thing.** `key` names what it is about; a person is told of one key once
  (a unique constraint, so two racing scans cannot both insert it). Scans run again and again
  and call `notify` for what they find each time; only the first call tells anyone.
- **The bell always; email by choice.** Each person's `NotificationPreference` says: email
  right away, a daily digest at a local hour, or never; and which kinds they want no email for.
- **Email through Celery.** `notify` marks the rows that are to be mailed and queues
  `tenancy.tasks.send_notification_emails` after the commit; the same task runs every few
  minutes from beat and catches up on anything a lost queue message left behind. Digests go
  out from `tenancy.tasks.send_notification_digests`. Both claim their rows with
  `select_for_update(skip_locked=True)`, so two workers never mail one row twice.
- What a notification says is rendered when it is shown (the kind's `render(params, org)`),
  in the reader's language, from plain values; never stored as a sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .models import OrgMembership
from .notification_models import EmailMode, EmailState, Notification, NotificationPreference
from .permissions import ORG_ROLE_CAPABILITIES

log = logging.getLogger(__name__)

MAX_BATCH = 200  # rows one email run claims at a time


# --- kinds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    code: str
    label: object  # lazy: what the preferences page calls it ("A case is assigned to me")
    render: Callable[[dict, object], str]  # (params, organization) -> the line a person reads
    order: int = 100


_KINDS: dict[str, Kind] = {}


def register_kind(code: str, *, label, render: Callable[[dict, object], str], order=100) -> None:
    """Called by the app that sends `code`, in its AppConfig.ready (may run twice in tests)."""
    _KINDS[code] = Kind(code=code, label=label, render=render, order=order)


def kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.code))


def text_of(notification: Notification, organization=None) -> str:
    """What the notification says, in the active language."""
    kind = _KINDS.get(notification.kind)
    if kind is not None:
        try:
            return str(kind.render(notification.params or {}, organization))
        except (KeyError, TypeError, ValueError):
            log.warning("notification %s (%s) could not be rendered", notification.pk, kind.code)
    return _("Something needs your attention.")


def local_time(value, organization) -> str:
    """An ISO time from a notification's params as people read it in the organization's zone:
    "12-08 20:05"."""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        raise ValueError(value)
    tz = organization.tzinfo if organization is not None else timezone.get_current_timezone()
    return moment.astimezone(tz).strftime("%m-%d %H:%M")


# --- sending ----------------------------------------------------------------------------------


def people_with(organization, capability: str) -> list:
    """Ids of the active people whose organization role grants `capability` everywhere (who
    hears of what belongs to nobody in particular: a case with no assignee, the budget)."""
    roles = [role for role, caps in ORG_ROLE_CAPABILITIES.items() if capability in caps]
    return list(
        OrgMembership.objects.for_org(organization)
        .filter(role__in=roles, is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


@dataclass
class Notice:
    """One thing to tell some people (see `notify`)."""

    user_ids: Iterable
    kind: str
    key: str
    params: dict = field(default_factory=dict)
    url: str = ""


def notify(*, organization, user_ids, kind: str, key: str, params=None, url: str = "") -> int:
    """Tell these people (active members of the organization) about one thing. Returns how
    many were told now (0 when all of them had been told of `key` before)."""
    notice = Notice(user_ids=user_ids, kind=kind, key=key, params=params or {}, url=url)
    return notify_many(organization, [notice])


def notify_many(organization, notices: list[Notice]) -> int:
    """`notify` for many things at once (the scans): a constant number of queries."""
    notices = [n for n in notices if n.user_ids]
    for notice in notices:
        if notice.kind not in _KINDS:
            raise KeyError(f"unregistered notification kind {notice.kind!r}")
        if len(notice.key) > 200 or len(notice.url) > 300:
            raise ValueError(f"notification key or url too long: {notice.key!r}")
    wanted = {int(u) for n in notices for u in n.user_ids if u is not None}
    if not wanted:
        return 0
    org = organization
    active = set(
        OrgMembership.objects.for_org(org)
        .filter(user_id__in=wanted, is_active=True, user__is_active=True)
        .values_list("user_id", flat=True)
    )
    prefs = {
        p.user_id: p for p in NotificationPreference.objects.for_org(org).filter(user_id__in=active)
    }
    told = set(
        Notification.objects.for_org(org)
        .filter(user_id__in=active, key__in={n.key for n in notices})
        .values_list("user_id", "key")
    )
    now = timezone.now()
    rows = []
    for notice in notices:
        for user_id in dict.fromkeys(int(u) for u in notice.user_ids if u is not None):
            if user_id not in active or (user_id, notice.key) in told:
                continue
            told.add((user_id, notice.key))
            rows.append(
                Notification(
                    organization=org,
                    user_id=user_id,
                    kind=notice.kind,
                    key=notice.key,
                    params=notice.params,
                    url=notice.url,
                    created_at=now,
                    email_state=_email_state(prefs.get(user_id), notice.kind),
                )
            )
    if not rows:
        return 0
    # A racing scan that inserted the same (person, key) first wins; this one adds nothing.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if any(row.email_state == EmailState.PENDING for row in rows):
        transaction.on_commit(lambda: _queue_emails(org.pk))
    return len(rows)


def _email_state(pref, kind: str) -> str:
    mode = pref.email_mode if pref is not None else EmailMode.IMMEDIATE
    if mode == EmailMode.NEVER or (pref is not None and kind in (pref.quiet_kinds or [])):
        return EmailState.NONE
    return EmailState.DIGEST if mode == EmailMode.DIGEST else EmailState.PENDING


def _queue_emails(org_id: int) -> None:
    from .tasks import send_notification_emails  # tasks import this module

    send_notification_emails.delay(org_id)


# --- reading ----------------------------------------------------------------------------------


def mine(organization, user):
    return Notification.objects.for_org(organization).filter(user=user)


def unread_count(organization, user) -> int:
    if organization is None or user is None or not user.is_authenticated:
        return 0
    return mine(organization, user).filter(read_at=None).count()


def mark_read(*, organization, user, notification_id=None) -> int:
    """Mark one of the person's notifications read (None: all of them). Someone else's, or
    another organization's, is not found (Notification.DoesNotExist)."""
    qs = mine(organization, user).filter(read_at=None)
    if notification_id is not None:
        if not mine(organization, user).filter(pk=notification_id).exists():
            raise Notification.DoesNotExist
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


# --- preferences ------------------------------------------------------------------------------


def preference_for(organization, user) -> NotificationPreference:
    """The person's choice (defaults, unsaved, when they never chose)."""
    return NotificationPreference.objects.for_org(organization).filter(
        user=user
    ).first() or NotificationPreference(organization=organization, user=user)


def preference_update(
    *, organization, user, email_mode: str, digest_hour: int, quiet_kinds
) -> NotificationPreference:
    """Save how this person wants to hear of their notifications. Rows still waiting for an
    email follow the new choice (a digest-in-waiting goes right away when switching to
    immediate; nothing goes out when switching to never)."""
    errors = {}
    if email_mode not in EmailMode.values:
        errors["email_mode"] = [_("Choose one of the listed options.")]
    if not isinstance(digest_hour, int) or not 0 <= digest_hour <= 23:
        errors["digest_hour"] = [_("Give an hour from 0 to 23.")]
    quiet = sorted(set(quiet_kinds or []))
    if any(code not in _KINDS for code in quiet):
        errors["quiet_kinds"] = [_("Choose one of the listed options.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pref, _created = NotificationPreference.objects.for_org(organization).get_or_create(
            organization=organization, user=user
        )
        pref.email_mode, pref.digest_hour, pref.quiet_kinds = email_mode, digest_hour, quiet
        pref.updated_at = timezone.now()
        pref.save(update_fields=["email_mode", "digest_hour", "quiet_kinds", "updated_at"])
        waiting = mine(organization, user).filter(
            email_state__in=[EmailState.PENDING, EmailState.DIGEST]
        )
        waiting.filter(kind__in=quiet).update(email_state=EmailState.NONE)
        waiting = waiting.exclude(kind__in=quiet)
        if email_mode == EmailMode.NEVER:
            waiting.update(email_state=EmailState.NONE)
        elif email_mode == EmailMode.DIGEST:
            waiting.update(email_state=EmailState.DIGEST)
        elif waiting.update(email_state=EmailState.PENDING):
            transaction.on_commit(lambda: _queue_emails(organization.pk))
    return pref


# --- email (run by the Celery tasks) ----------------------------------------------------------


def _link(path: str) -> str:
    return settings.SITE_URL + path if path else ""


def _mail(organization, user, notifications, template: str) -> None:
    with translation.override(organization.default_language):
        lines = [
            {"text": text_of(n, organization), "link": _link(n.url), "at": n.created_at}
            for n in notifications
        ]
        context = {
            "organization": organization,
            "user": user,
            "lines": lines,
            "count": len(lines),
            "all_link": _link(reverse("notifications", kwargs={"org_slug": organization.slug})),
            "settings_link": _link(
                reverse("notification-settings", kwargs={"org_slug": organization.slug})
            ),
        }
        subject = render_to_string(f"tenancy/emails/{template}_subject.txt", context)
        body = render_to_string(f"tenancy/emails/{template}_body.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])


def _by_user(rows) -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row.user_id, []).append(row)
    return grouped


def send_pending_emails(organization) -> int:
    """Mail every notification waiting to go out right away; one email per person per run
    (usually one notification). Returns the emails sent. A mail server error rolls the claim
    back: the task retries, and the next run finds the rows still pending."""
    sent = 0
    while True:
        with transaction.atomic():
            rows = list(
                Notification.objects.for_org(organization)
                .filter(email_state=EmailState.PENDING)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .order_by("pk")[:MAX_BATCH]
            )
            if not rows:
                return sent
            now = timezone.now()
            for _user_id, notifications in _by_user(rows).items():
                user = notifications[0].user
                if user.is_active and user.email:
                    _mail(organization, user, notifications, "notification")
                    sent += 1
            Notification.objects.for_org(organization).filter(pk__in=[r.pk for r in rows]).update(
                email_state=EmailState.SENT, emailed_at=now
            )


def send_digests(organization, now=None) -> int:
    """The daily digest of everyone whose digest hour has come today (organization's time
    zone) and who has not had today's: one email with what waited for it. Returns the emails
    sent."""
    now = now or timezone.now()
    local = now.astimezone(organization.tzinfo)
    today = local.date()
    due = NotificationPreference.objects.for_org(organization).filter(
        Q(last_digest_on=None) | Q(last_digest_on__lt=today),
        email_mode=EmailMode.DIGEST,
        digest_hour__lte=local.hour,
    )
    sent = 0
    for pref_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            pref = (
                due.filter(pk=pref_id)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .first()
            )
            if pref is None:  # another worker has it, or sent it since
                continue
            rows = list(
                mine(organization, pref.user)
                .filter(email_state=EmailState.DIGEST)
                .order_by("created_at", "pk")[:MAX_BATCH]
            )
            if rows and pref.user.is_active and pref.user.email:
                _mail(organization, pref.user, rows, "digest")
                sent += 1
            Notification.objects.for_org(organization).filter(pk__in=[r.pk for r in rows]).update(
                email_state=EmailState.SENT, emailed_at=now
            )
            pref.last_digest_on = today
            pref.save(update_fields=["last_digest_on"])
    return sent
