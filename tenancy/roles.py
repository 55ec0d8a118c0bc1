from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    ANALYST = "analyst", _("Analyst (read-only)")
    STAFF = "staff", _("Staff")


class CommunityRole(models.TextChoices):
    """Per-community roles held by staff (assigned with the group-setup issue)."""

    SUB_OWNER = "sub_owner", _("Sub-owner")
    DEPUTY = "deputy", _("Deputy")
    TOPIC_OFFICER = "topic_officer", _("Topic officer")
    BENEFITS_OFFICER = "benefits_officer", _("Benefits officer")
    CONTENT_OFFICER = "content_officer", _("Content officer")


def role_label(value) -> str:
    """An org or group role as a person reads it ("分群主"), never its code."""
    labels = {**dict(OrgRole.choices), **dict(CommunityRole.choices)}
    return str(labels.get(str(value), _("Other role")))


# Roles an API key may carry. Keys never hold "owner": an owner-level key could mint more keys.
API_KEY_ROLES = [OrgRole.MANAGER, OrgRole.ANALYST, OrgRole.STAFF]
