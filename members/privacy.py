"""A member's personal data on request: export everything stored about one member, and erase
their personal data (PII) while keeping the rows, counts and orders so metrics stay right.

Erased: the member's display name and name card, the display names of their identities, phone,
notes, tags, what they wrote in the leaving survey; personal fields in the raw event payloads they sent (display_name, name_card, text)
and in outbox action payloads about them; the old names wherever staff-facing text quoted them
(warning details, status-change reasons, member care's cases and follow-ups, audit entries
about the member). Kept: every row and its counts and amounts, the platform user ids (ingestion
needs them to stay idempotent), and the audit log, whose erasure entry says who erased whom
without the erased data.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict
from integrations.models import Action
from tenancy import audit
from tenancy.models import AuditLogEntry
from tenancy.permissions import require

from . import hooks
from .access import revoke_access
from .models import (
    Block,
    CheckIn,
    Invite,
    Leaving,
    Member,
    MemberIdentity,
    Membership,
    MembershipChange,
    PointsEntry,
    RawEvent,
    TierChange,
    WakeUpAssignment,
    Warning,
)

ERASED = "[erased]"
CAPABILITY = "member.erase"
# Personal fields of stored payloads. Raw events: the event schema's names and message text
# (an order item's "name" is a product, not a person). Outbox actions: also "name", the person
# addressed by a welcome or a warning.
EVENT_KEYS = frozenset({"display_name", "name_card", "text"})
ACTION_KEYS = EVENT_KEYS | {"name"}
BATCH = 500


# --- export -----------------------------------------------------------------------------------


def _rows(queryset, fields) -> list[dict]:
    return [_jsonable(row) for row in queryset.order_by("pk").values(*fields)]


def _jsonable(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value)  # Decimal, UUID
        out[key] = value
    return out


MEMBER_FIELDS = [
    "id",
    "display_name",
    "name_card",
    "phone",
    "tags",
    "notes",
    "tier__name",
    "tier_since",
    "points_balance",
    "first_seen_at",
    "erased_at",
]
MEMBERSHIP_FIELDS = [
    "id",
    "community_id",
    "community__name",
    "identity_id",
    "status",
    "joined_at",
    "left_at",
    "churn_reason",
    "last_active_at",
    "message_count",
    "welcomed_at",
    "introduced_at",
    "coupon_issued_at",
    "flags",
]
HISTORY_FIELDS = ["from_status", "to_status", "reason", "actor_label", "created_at"]
# The export's lists of rows: key -> (model, fields, how the member's rows are found).
SECTIONS = {
    "identities": (
        MemberIdentity,
        ["id", "platform", "external_user_id", "display_name", "first_seen_at"],
        "member",
    ),
    "warnings": (
        Warning,
        ["id", "membership_id", "reason", "detail", "created_at", "expires_at", "revoked_at"],
        "membership__member",
    ),
    "blocks": (Block, ["id", "reason", "created_at", "lifted_at"], "member"),
    "points_ledger": (
        PointsEntry,
        ["id", "delta", "reason", "detail", "day", "created_at"],
        "member",
    ),
    "tier_changes": (
        TierChange,
        ["from_tier__name", "to_tier__name", "reason", "created_at"],
        "member",
    ),
    "leavings": (
        Leaving,
        ["id", "community_id", "left_at", "reason", "source", "text", "asked_at", "answered_at"],
        "member",
    ),
    "check_ins": (CheckIn, ["id", "membership_id", "day", "streak", "created_at"], "member"),
    "invites": (
        Invite,
        ["id", "community_id", "invitee_id", "invited_at", "credited_at"],
        "inviter",
    ),
    "raw_events": (
        RawEvent,
        ["id", "client_event_id", "type", "occurred_at", "received_at", "payload"],
        "member",
    ),
    # the dormant wake-up's draws: reminded, or held out to measure the reminders
    "wake_up_draws": (
        WakeUpAssignment,
        ["id", "community_id", "membership_id", "episode", "arm", "at"],
        "member",
    ),
}


def member_export(*, actor, member) -> dict:
    """Everything stored about one member, as JSON-ready data. Audited (who exported whom).
    Its shape is described for the API by `members.api.export_schema` from the same lists."""
    require(actor, CAPABILITY)
    org = actor.organization
    memberships = Membership.objects.for_org(org).filter(member=member)
    data = {
        "format": "qunyun.member-export.v1",
        "exported_at": timezone.now().isoformat(),
        "organization": org.slug,
        "member": _rows(Member.objects.for_org(org).filter(pk=member.pk), MEMBER_FIELDS)[0],
        "memberships": [
            {
                **row,
                "history": _rows(
                    MembershipChange.objects.for_org(org).filter(membership_id=row["id"]),
                    HISTORY_FIELDS,
                ),
            }
            for row in _rows(memberships, MEMBERSHIP_FIELDS)
        ],
        **{
            key: _rows(model.objects.for_org(org).filter(**{lookup: member}), fields)
            for key, (model, fields, lookup) in SECTIONS.items()
        },
        **{section.key: _section_rows(org, section) for section in _sections(org, member)},
    }
    audit.record(
        actor=actor,
        action="member.export",
        obj=member,
        summary=_("Exported the member's data"),
    )
    return data


def section_fields(section) -> list[str]:
    model = section.queryset.model
    return section.fields or [
        f.attname for f in model._meta.concrete_fields if f.attname != "organization_id"
    ]


def _sections(org, member) -> list:
    """What the apps above members keep about the member (orders, care cases, …)."""
    return [
        section
        for sections in hooks.privacy_sections(org=org, member=member)
        for section in sections
    ]


def _section_rows(org, section) -> list[dict]:
    return _rows(section.queryset, section_fields(section))


# --- erasure ----------------------------------------------------------------------------------


def _scrub_text(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, ERASED)
    return text


def _scrub_payload(payload, secrets: list[str], keys=EVENT_KEYS):
    if isinstance(payload, dict):
        return {
            key: (
                ERASED
                if key in keys and isinstance(value, str) and value
                else _scrub_payload(value, secrets, keys)
            )
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [_scrub_payload(value, secrets, keys) for value in payload]
    if isinstance(payload, str):
        return _scrub_text(payload, secrets)
    return payload


def _rewrite(queryset, field: str, change) -> None:
    """Rewrite one text/JSON field in batches, only the rows whose value changes."""
    batch = []
    model = queryset.model
    for obj in queryset.only("pk", "organization_id", field).iterator(chunk_size=BATCH):
        new = change(getattr(obj, field))
        if new != getattr(obj, field):
            setattr(obj, field, new)
            batch.append(obj)
        if len(batch) >= BATCH:
            model.objects.bulk_update(batch, [field])
            batch = []
    if batch:
        model.objects.bulk_update(batch, [field])


def member_erase(*, actor, member) -> Member:
    """Erase the member's personal data (see the module docstring). Owner/manager only."""
    require(actor, CAPABILITY)
    org = actor.organization
    with transaction.atomic():
        member = Member.objects.for_org(org).select_for_update(no_key=True).get(pk=member.pk)
        if member.erased_at is not None:
            raise Conflict(_("This member's personal data has already been erased."))
        identities = MemberIdentity.objects.for_org(org).filter(member=member)
        old_values = {member.display_name, member.name_card, member.phone}
        old_values |= set(identities.values_list("display_name", flat=True))
        # Longest first, so a name that contains another is replaced whole.
        secrets = sorted((v for v in old_values if v and v != ERASED), key=len, reverse=True)

        identities.update(display_name=ERASED)
        member.display_name = ERASED
        member.name_card = ERASED if member.name_card else ""
        member.phone = ""
        member.notes = ""
        member.tags = []
        member.erased_at = timezone.now()
        member.save(
            update_fields=["display_name", "name_card", "phone", "notes", "tags", "erased_at"]
        )

        membership_ids = list(
            Membership.objects.for_org(org).filter(member=member).values_list("pk", flat=True)
        )

        def scrub(value):
            return _scrub_payload(value, secrets)

        def scrub_action(value):
            return _scrub_payload(value, secrets, ACTION_KEYS)

        # what they wrote when they left is their own words: gone, the cause stays counted
        Leaving.objects.for_org(org).filter(member=member).exclude(text="").update(text="")
        _rewrite(RawEvent.objects.for_org(org).filter(member=member), "payload", scrub)
        _rewrite(Action.objects.for_org(org).filter(member=member), "payload", scrub_action)
        if secrets:

            def scrub_text(value):
                return _scrub_text(value, secrets)

            warnings = Warning.objects.for_org(org).filter(membership_id__in=membership_ids)
            _rewrite(warnings, "detail", scrub_text)
            changes = MembershipChange.objects.for_org(org).filter(membership_id__in=membership_ids)
            _rewrite(changes, "reason", scrub_text)
            _rewrite(PointsEntry.objects.for_org(org).filter(member=member), "detail", scrub_text)
            about_member = AuditLogEntry.objects.for_org(org).filter(
                object_type="members.member", object_id=str(member.pk)
            ) | AuditLogEntry.objects.for_org(org).filter(
                object_type="members.membership",
                object_id__in=[str(pk) for pk in membership_ids],
            )
            for section in _sections(org, member):
                for field in section.text_fields:
                    _rewrite(section.queryset, field, scrub_text)
            _rewrite(about_member, "object_repr", scrub_text)
            _rewrite(about_member, "summary", scrub_text)
            _rewrite(about_member, "changes", scrub)

        revoke_access(org, [member.pk])
        audit.record(
            actor=actor,
            action="member.erase",
            obj=member,
            summary=_("Erased the personal data of member #%(id)s on request") % {"id": member.pk},
        )
    return member
