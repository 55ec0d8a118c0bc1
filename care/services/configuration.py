"""Member care's settings and complaint keywords, and what a member's data export covers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from care.models import (
    MAX_KEYWORDS,
    CareSettings,
    Case,
    CaseEvent,
    CommunityKeywords,
    FollowUpTask,
)
from members.hooks import PrivacySection
from tenancy import audit
from tenancy.permissions import can_anywhere, require

# --- settings --------------------------------------------------------------------------------


def clean_keywords(raw) -> list[str]:
    """A list of distinct keywords (from a list, or text split on commas and new lines)."""
    if isinstance(raw, str):
        raw = raw.replace("，", ",").replace("\n", ",").split(",")
    if not isinstance(raw, list | tuple):
        raise ValidationError({"keywords": [_("Give a list of keywords.")]})
    words = []
    for word in raw:
        word = str(word).strip()
        if not word:
            continue
        if len(word) > 30 or "\x00" in word:
            raise ValidationError({"keywords": [_("A keyword has at most 30 characters.")]})
        if word.casefold() not in {w.casefold() for w in words}:
            words.append(word)
    if len(words) > MAX_KEYWORDS:
        raise ValidationError({"keywords": [_("At most %(n)s keywords.") % {"n": MAX_KEYWORDS}]})
    return words


def care_settings_update(
    *, actor, first_response_minutes, service_start, service_end, complaint_keywords
) -> CareSettings:
    require(actor, "care.manage")
    try:
        minutes = int(first_response_minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= 1440:
        raise ValidationError(
            {"first_response_minutes": [_("Give a number of minutes from 1 to 1440.")]}
        )
    keywords = clean_keywords(complaint_keywords)
    org = actor.organization
    with transaction.atomic():
        current = CareSettings.objects.for_org(org).select_for_update().first() or CareSettings(
            organization=org
        )
        new = {
            "first_response_minutes": minutes,
            "service_start": service_start,
            "service_end": service_end,
            "complaint_keywords": keywords,
        }
        changes = audit.diff(current, new.keys(), new) if current.pk else {}
        for name, value in new.items():
            setattr(current, name, value)
        current.updated_at = timezone.now()
        current.save()
        audit.record(
            actor=actor,
            action="care.settings",
            changes={k: [str(a), str(b)] for k, (a, b) in changes.items()},
        )
    return current


def community_keywords_set(*, actor, community, keywords, inherit=False):
    """The group's own complaint keywords; `inherit`: back to the organization's."""
    require(actor, "care.manage", community)
    words = [] if inherit else clean_keywords(keywords)
    org = actor.organization
    with transaction.atomic():
        if inherit:
            CommunityKeywords.objects.for_org(org).filter(community=community).delete()
        else:
            CommunityKeywords.objects.for_org(org).update_or_create(
                community=community,
                defaults={"keywords": words, "updated_at": timezone.now(), "organization": org},
            )
        audit.record(
            actor=actor,
            action="care.keywords",
            obj=community,
            summary="inherit" if inherit else ", ".join(words)[:500],
        )
    return words


def may_open_cases(actor) -> bool:
    return can_anywhere(actor, "care.manage")


def privacy_sections(*, org, member) -> list:
    """Member care's rows about a member, for their data export and erasure (registered on
    `members.hooks`): cases, their timelines, follow-ups, with the text that may quote them."""
    return [
        PrivacySection(
            "care_cases", Case.objects.for_org(org).filter(member=member), text_fields=("subject",)
        ),
        PrivacySection(
            "care_case_events",
            CaseEvent.objects.for_org(org).filter(case__member=member),
            text_fields=("text",),
        ),
        PrivacySection(
            "follow_ups",
            FollowUpTask.objects.for_org(org).filter(member=member),
            text_fields=("text", "note"),
        ),
    ]
