"""Every state change of organizations, their people, invitations and API keys.

Each function is atomic, checks its rules, and writes the audit log. Bad input raises
`django.core.exceptions.ValidationError` with translated messages before anything is written.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict

from . import audit, hooks, rls, tokens
from .actors import Actor
from .emails import send_invitation_email
from .models import (
    RAW_EVENT_RETENTION_CHOICES,
    ApiKey,
    Invitation,
    Organization,
    OrgMembership,
    User,
    validate_time_zone,
)
from .permissions import require
from .roles import API_KEY_ROLES, OrgRole, role_label
from .scope import org_scope

# --- Organizations ----------------------------------------------------------------------------


def _validate_org_fields(*, name: str, time_zone: str, default_language: str) -> dict:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Enter a name.")]
    elif len(name) > 120:
        errors["name"] = [_("Use at most 120 characters.")]
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        errors["time_zone"] = exc.messages
    if default_language not in dict(settings.LANGUAGES):
        errors["default_language"] = [_("Choose one of the supported languages.")]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "time_zone": time_zone, "default_language": default_language}


def organization_create(
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_password: str | None = None,
    time_zone: str = settings.DEFAULT_ORG_TIME_ZONE,
    default_language: str = "zh-hans",
    label: str = "system",
) -> Organization:
    """Create an organization and its first owner (an existing user, or a new one)."""
    fields = _validate_org_fields(name=name, time_zone=time_zone, default_language=default_language)
    org = Organization(slug=slug, **fields)
    org.full_clean()
    email = _clean_email(owner_email)
    with transaction.atomic():
        org.save()
        user = User.objects.filter(email=email).first()
        if user is None:
            if owner_password:
                validate_password(owner_password)
            user = User.objects.create_user(email=email, password=owner_password)
        actor = Actor.system(org, label)
        with org_scope(org):
            membership = OrgMembership.objects.create(
                organization=org, user=user, role=OrgRole.OWNER
            )
            audit.record(actor=actor, action="org.create", obj=org, summary=org.name)
            audit.record(
                actor=actor,
                action="team.add",
                obj=membership,
                summary=f"{email} → {role_label(OrgRole.OWNER)}",
            )
    return org


def first_steps_dismiss(*, actor: Actor) -> Organization:
    """Put the new organization's checklist away before it is done (it stays away)."""
    require(actor, "org.manage")
    org = actor.organization
    if org.first_steps_dismissed_at is not None:
        return org
    with transaction.atomic():
        org.first_steps_dismissed_at = timezone.now()
        Organization.objects.filter(pk=org.pk).update(
            first_steps_dismissed_at=org.first_steps_dismissed_at
        )
        audit.record(actor=actor, action="org.first_steps_dismiss", obj=org)
    return org


POLICY_FIELDS = [
    "sub_owner_community_limit",
    "group_limits",
    "abuse_words",
    "remove_blocked_on_join",
    "store_message_text",
    "raw_event_retention_months",
    "require_post_approval",
    "monthly_campaign_budget",
    "payment_instructions",
    "wake_up_holdout_percent",
]


def _validate_policy(values: dict) -> dict:
    errors = {}
    limit = values.get("sub_owner_community_limit")
    if limit is not None and not (isinstance(limit, int) and 1 <= limit <= 100):
        errors["sub_owner_community_limit"] = [_("Give a number from 1 to 100.")]
    limits = values.get("group_limits")
    if limits is not None:
        ok = isinstance(limits, dict) and all(
            isinstance(k, str) and isinstance(v, int) and 1 <= v <= 100 for k, v in limits.items()
        )
        if not ok:
            errors["group_limits"] = [_("Give a number from 1 to 100 for each kind of group.")]
    words = values.get("abuse_words")
    if words is not None:
        ok = (
            isinstance(words, list)
            and len(words) <= 500
            and all(isinstance(w, str) and 0 < len(w) <= 50 and "\x00" not in w for w in words)
        )
        if not ok:
            errors["abuse_words"] = [_("Give at most 500 words of 1 to 50 characters.")]
    budget = values.get("monthly_campaign_budget")
    if budget is not None and not (0 <= budget <= 10**10):
        errors["monthly_campaign_budget"] = [_("Give an amount of at least 0.")]
    instructions = values.get("payment_instructions")
    if instructions is not None:
        values["payment_instructions"] = instructions = str(instructions).strip()
        if len(instructions) > 1000 or "\x00" in instructions:
            errors["payment_instructions"] = [_("Write at most 1,000 characters.")]
    holdout = values.get("wake_up_holdout_percent")
    if holdout is not None and not (
        isinstance(holdout, int) and not isinstance(holdout, bool) and 0 <= holdout <= 50
    ):
        errors["wake_up_holdout_percent"] = [_("Give a whole percent from 0 to 50.")]
    retention = values.get("raw_event_retention_months")
    if retention is not None and retention not in dict(RAW_EVENT_RETENTION_CHOICES):
        errors["raw_event_retention_months"] = [_("Choose one of the offered retention times.")]
    if errors:
        raise ValidationError(errors)
    return values


def organization_update(
    *, actor: Actor, name: str, time_zone: str, default_language: str, **policy
) -> Organization:
    """Name, time zone, language, and the org-wide policies (staff load, groups per member,
    block-list removal, whether message text is kept)."""
    require(actor, "org.manage")
    org = actor.organization
    new = _validate_org_fields(name=name, time_zone=time_zone, default_language=default_language)
    new.update(_validate_policy({k: v for k, v in policy.items() if k in POLICY_FIELDS}))
    changes = audit.diff(org, new.keys(), new)
    if not changes:
        return org
    with transaction.atomic():
        Organization.objects.filter(pk=org.pk).update(**new)
        for key, value in new.items():
            setattr(org, key, value)
        audit.record(
            actor=actor,
            action="org.update",
            obj=org,
            summary=audit.field_labels(Organization, changes),
            changes=changes,
        )
        if "time_zone" in changes:
            hooks.time_zone_changed(org=org)
    return org


# --- People -------------------------------------------------------------------------------


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
    return email


def _check_may_grant(actor: Actor, role: str) -> None:
    if role not in OrgRole.values:
        raise ValidationError({"role": [_("Choose a valid role.")]})
    if role == OrgRole.OWNER and actor.role not in (OrgRole.OWNER, "system"):
        raise ValidationError({"role": [_("Only an owner can make someone an owner.")]})


def invitation_create(*, actor: Actor, email: str, role: str) -> tuple[Invitation, str]:
    """Invite someone by email. Returns the invitation and the raw token (mailed, never stored)."""
    require(actor, "team.manage")
    email = _clean_email(email)
    _check_may_grant(actor, role)
    org = actor.organization
    if OrgMembership.objects.for_org(org).filter(user__email=email, is_active=True).exists():
        raise Conflict({"email": [_("This person is already in the organization.")]})
    token = tokens.new_invitation_token()
    now = timezone.now()
    with transaction.atomic():
        # A new invitation replaces any pending one for the same address.
        Invitation.objects.for_org(org).filter(
            email=email, accepted_at=None, revoked_at=None, expires_at__gt=now
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            organization=org,
            email=email,
            role=role,
            token_hash=tokens.keyed_hash(token),
            invited_by=actor.user,
            expires_at=now + settings.INVITATION_TTL,
        )
        audit.record(
            actor=actor,
            action="team.invite",
            obj=invitation,
            summary=f"{email} → {role_label(role)}",
        )
        transaction.on_commit(lambda: send_invitation_email(invitation, token, actor))
    return invitation, token


def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    require(actor, "team.manage")
    if invitation.status != "pending":
        raise Conflict(_("Only a pending invitation can be revoked."))
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="team.invite_revoke", obj=invitation)
    return invitation


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link points at, in any organization (the token is the credential)."""
    if not token or len(token) > 100:
        return None
    token_hash = tokens.keyed_hash(token)
    with rls.lookup("invitation", token_hash):
        return (
            Invitation.objects.unscoped()
            .select_related("organization")
            .filter(token_hash=token_hash)
            .first()
        )


def invitation_accept(
    *, token: str, user: User | None = None, full_name: str = "", password: str = ""
) -> OrgMembership:
    """Use an invitation once. A signed-in user joins as themselves; otherwise an account is
    created for the invited address. Two simultaneous clicks: exactly one wins."""
    with transaction.atomic():
        found = invitation_by_token(token)
        invitation = (
            Invitation.objects.for_org(found.organization)
            .select_for_update()
            .filter(pk=found.pk)
            .first()
            if found
            else None
        )
        if invitation is None or invitation.status != "pending":
            raise ValidationError(_("This invitation link is invalid, expired or already used."))
        org = found.organization
        if user is None:
            if User.objects.filter(email=invitation.email).exists():
                raise ValidationError(
                    _("An account with this email exists: sign in first, then open the link.")
                )
            full_name = (full_name or "").strip()[:150]
            candidate = User(email=invitation.email, full_name=full_name)
            validate_password(password, user=candidate)
            user = User.objects.create_user(
                email=invitation.email, password=password, full_name=full_name
            )
        elif user.email.lower() != invitation.email:
            raise ValidationError(
                _("This invitation was sent to %(email)s. Sign in with that address.")
                % {"email": invitation.email}
            )
        now = timezone.now()
        with org_scope(org):
            membership = OrgMembership.objects.filter(user=user).first()
            if membership is None:
                membership = OrgMembership.objects.create(
                    organization=org, user=user, role=invitation.role
                )
            else:
                membership.role = invitation.role
                membership.is_active = True
                membership.deactivated_at = None
                membership.save(update_fields=["role", "is_active", "deactivated_at"])
            invitation.accepted_at = now
            invitation.accepted_by = user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            actor = Actor(organization=org, role=membership.role, user=user)
            audit.record(
                actor=actor,
                action="team.join",
                obj=membership,
                summary=f"{user.email} → {role_label(membership.role)}",
            )
    return membership


def _lock_organization(org) -> None:
    """Serialise changes to who owns the organization: two owners demoting each other at the
    same moment must not leave it with none."""
    Organization.objects.select_for_update().filter(pk=org.pk).first()


def _active_owner_count(org) -> int:
    return OrgMembership.objects.for_org(org).filter(role=OrgRole.OWNER, is_active=True).count()


def _check_may_change(actor: Actor, membership: OrgMembership) -> None:
    if membership.role == OrgRole.OWNER and actor.role not in (OrgRole.OWNER, "system"):
        raise ValidationError(_("Only an owner can change another owner."))


def membership_change_role(*, actor: Actor, membership: OrgMembership, role: str) -> OrgMembership:
    require(actor, "team.manage")
    _check_may_grant(actor, role)
    _check_may_change(actor, membership)
    if membership.role == role:
        return membership
    with transaction.atomic():
        _lock_organization(actor.organization)
        membership = OrgMembership.objects.for_org(actor.organization).get(pk=membership.pk)
        if membership.role == OrgRole.OWNER and _active_owner_count(actor.organization) <= 1:
            raise Conflict(_("An organization needs at least one owner."))
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            actor=actor,
            action="team.role_change",
            obj=membership,
            summary=f"{membership.user.email}: {role_label(old)} → {role_label(role)}",
            changes={"role": [old, role]},
        )
    return membership


def membership_set_active(
    *, actor: Actor, membership: OrgMembership, active: bool
) -> OrgMembership:
    """Deactivate (or restore) someone's access. The membership row and its history stay."""
    require(actor, "team.manage")
    _check_may_change(actor, membership)
    if membership.is_active == active:
        return membership
    if not active and actor.user is not None and membership.user_id == actor.user.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    with transaction.atomic():
        _lock_organization(actor.organization)
        membership = OrgMembership.objects.for_org(actor.organization).get(pk=membership.pk)
        org = actor.organization
        if not active and membership.role == OrgRole.OWNER and _active_owner_count(org) <= 1:
            raise Conflict(_("An organization needs at least one owner."))
        membership.is_active = active
        membership.deactivated_at = None if active else timezone.now()
        membership.save(update_fields=["is_active", "deactivated_at"])
        audit.record(
            actor=actor,
            action="team.reactivate" if active else "team.deactivate",
            obj=membership,
            summary=membership.user.email,
        )
    return membership


# --- API keys -----------------------------------------------------------------------------


def api_key_create(*, actor: Actor, name: str, role: str = OrgRole.MANAGER) -> tuple[ApiKey, str]:
    """Create a key. Returns it with the full secret, which is shown once and never again."""
    require(actor, "apikey.manage")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Enter a name.")]
    elif len(name) > 100:
        errors["name"] = [_("Use at most 100 characters.")]
    if role not in API_KEY_ROLES:
        errors["role"] = [_("Choose a valid role.")]
    if errors:
        raise ValidationError(errors)
    for _attempt in range(3):  # prefixes are random; a collision is rare but possible
        prefix, raw = tokens.new_api_key()
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    organization=actor.organization,
                    name=name,
                    role=role,
                    prefix=prefix,
                    key_hash=tokens.keyed_hash(raw),
                    created_by=actor.user,
                )
                audit.record(actor=actor, action="apikey.create", obj=key, summary=role_label(role))
            return key, raw
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a unique API key prefix")


def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    require(actor, "apikey.manage")
    if api_key.revoked_at is not None:
        raise Conflict(_("This key is already revoked."))
    with transaction.atomic():
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="apikey.revoke", obj=api_key)
    return api_key


API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key for a presented secret, or None. One indexed query; `last_used_at` is
    written at most once a minute per key so that busy bots do not write on every request."""
    prefix = tokens.prefix_of(raw_key or "")
    if prefix is None:
        return None
    with rls.lookup("apikey", prefix):
        key = (
            ApiKey.objects.unscoped()
            .select_related("organization")
            .filter(prefix=prefix, revoked_at=None)
            .first()
        )
    if key is None or not tokens.matches(raw_key, key.key_hash):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= API_KEY_LAST_USED_RESOLUTION:
        ApiKey.objects.for_org(key.organization).filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# What a bot did, per key, for its connection status: an event batch, a poll, an answer.
API_KEY_SEEN_FIELDS = {"event": "last_event_at", "poll": "last_poll_at", "ack": "last_ack_at"}


def api_key_seen(api_key: ApiKey | None, what: str) -> None:
    """Stamp "last event / poll / acknowledgement" on the key the bot used, at most once a
    minute: the stamp the key was loaded with decides, so a busy bot costs no write per
    request, and the conditional UPDATE keeps two processes from both writing."""
    if api_key is None:
        return
    name = API_KEY_SEEN_FIELDS[what]
    now = timezone.now()
    last = getattr(api_key, name)
    if last is not None and now - last < API_KEY_LAST_USED_RESOLUTION:
        return
    stale = Q(**{f"{name}__isnull": True}) | Q(
        **{f"{name}__lt": now - API_KEY_LAST_USED_RESOLUTION}
    )
    ApiKey.objects.for_org(api_key.organization_id).filter(stale, pk=api_key.pk).update(
        **{name: now}
    )
    setattr(api_key, name, now)
