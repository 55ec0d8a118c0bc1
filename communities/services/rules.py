"""A group's intro, rules and enforcement: edit, apply a template, copy to other groups."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import (
    Community,
    CommunityRules,
)
from communities.rule_templates import TEMPLATES
from communities.rules import clean_auto_replies, clean_rules
from tenancy import audit
from tenancy.permissions import require

from .base import apply_or_restore, full_clean

RULES_FIELDS = [
    "intro_who",
    "intro_why",
    "intro_runs",
    "welcome_message",
    "rules",
    "warnings_before_removal",
    "warning_expiry_days",
    "announce_removal",
    "ask_leavers_why",
    "mute_before_removal",
    "below_tier_action",
    "group_limit_action",
    "auto_replies",
    "dormant_after_days",
    "reminder_cooldown_days",
    "max_reminders",
    "reminder_template",
    "reminder_offer",
    "posts_per_day_limit",
]
# --- Intro and rules -----------------------------------------------------------------------


def _rules_of(community) -> CommunityRules:
    rules = (
        CommunityRules.objects.for_org(community.organization).filter(community=community).first()
    )
    if rules is None:
        rules = CommunityRules.objects.create(
            organization=community.organization, community=community
        )
    return rules


def rules_update(*, actor, community: Community, **data) -> CommunityRules:
    require(actor, "community.manage", community)
    rules = _rules_of(community)
    values = {key: data[key] for key in RULES_FIELDS if key in data}
    if "rules" in values:
        values["rules"] = clean_rules(values["rules"])
    if "auto_replies" in values:
        values["auto_replies"] = clean_auto_replies(values["auto_replies"])
    before = apply_or_restore(rules, values, lambda: full_clean(rules, exclude=["community"]))
    changed = [key for key in values if before[key] != values[key]]
    if "source_template" in data:
        rules.source_template = data["source_template"]
    with transaction.atomic():
        rules.updated_at = timezone.now()
        rules.save()
        audit.record(
            actor=actor,
            action="community.rules_update",
            obj=community,
            summary=audit.field_labels(CommunityRules, changed) or _("no changes"),
        )
    return rules


def rules_apply_template(*, actor, community: Community, template: str) -> CommunityRules:
    if template not in TEMPLATES:
        raise ValidationError({"template": [_("Choose one of the templates.")]})
    spec = TEMPLATES[template]
    values = {key: spec[key] for key in RULES_FIELDS if key in spec}
    return rules_update(actor=actor, community=community, source_template=template, **values)


def rules_copy(*, actor, source: Community, targets) -> int:
    """Copy intro, rules and enforcement from one group to many, all or nothing."""
    require(actor, "community.view", source)
    targets = [t for t in targets if t.pk != source.pk]
    if not targets:
        raise ValidationError({"targets": [_("Choose at least one other group.")]})
    rules = _rules_of(source)
    values = {key: getattr(rules, key) for key in RULES_FIELDS}
    with transaction.atomic():
        for target in targets:
            rules_update(
                actor=actor,
                community=target,
                source_template=rules.source_template,
                **values,
            )
        audit.record(
            actor=actor,
            action="community.rules_copy",
            obj=source,
            summary=", ".join(t.name for t in targets)[:500],
        )
    return len(targets)
