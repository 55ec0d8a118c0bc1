"""Public sign-up: a new organization and its owner, created when the owner proves the address.

1. `signup_request` checks what was typed (the address is free, the password passes the
   validators) and keeps it as a `SignupRequest`, the password already hashed. Nothing else is
   created. A Celery task mails the link (`tasks.send_signup_mail`): an address that already has
   an account gets a "you already have an account" mail instead, so the page never tells which
   addresses are registered.
2. The link carries a token from Django's token machinery (`SignupTokenGenerator`, the password
   reset's generator with its own salt and hash value): it expires with
   PASSWORD_RESET_TIMEOUT and works once, since the hash covers the moment of verification.
3. `signup_verify` creates the user and the organization (`services.organization_create`) in
   one transaction, the request locked so that two clicks create one organization.

The page can be switched off (SIGNUP_ENABLED) and is limited like the login: see
tenancy/login_throttle.py and tenancy/views.py's SignupView.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import Organization, OrgMembership, SignupRequest, User, slug_validator
from .services import _clean_email, organization_create


class SignupTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "tenancy.signup.SignupTokenGenerator"

    def _make_hash_value(self, signup, timestamp):
        verified = "" if signup.verified_at is None else signup.verified_at.isoformat()
        return f"{signup.pk}{signup.email}{signup.password_hash}{verified}{timestamp}"


signup_token = SignupTokenGenerator()


def link_parts(signup: SignupRequest) -> dict:
    """The URL kwargs of the verification link."""
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(signup.pk)),
        "token": signup_token.make_token(signup),
    }


def _clean_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise ValidationError({"slug": exc.messages}) from None
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [_("This address is taken: choose another.")]})
    return slug


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"organization_name": [_("Enter a name.")]})
    if len(name) > 120:
        raise ValidationError({"organization_name": [_("Use at most 120 characters.")]})
    return name


def signup_validate(
    *, email: str, organization_name: str, slug: str, password: str, full_name: str = ""
) -> dict:
    """What the page typed, checked: the cleaned values, or a ValidationError per field."""
    errors: dict = {}
    values: dict = {"full_name": (full_name or "").strip()[:150]}
    for name, check in (
        ("email", lambda: _clean_email(email)),
        ("slug", lambda: _clean_slug(slug)),
        ("organization_name", lambda: _clean_name(organization_name)),
    ):
        try:
            values[name] = check()
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                errors.setdefault(name, []).extend(messages)
    try:
        candidate = User(email=values.get("email", ""), full_name=values["full_name"])
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password1"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return values


def signup_request(
    *,
    email: str,
    organization_name: str,
    slug: str,
    password: str,
    full_name: str = "",
    language: str = "zh-hans",
) -> SignupRequest:
    """Keep a sign-up and mail its link (after the commit, through Celery)."""
    from .tasks import send_signup_mail

    values = signup_validate(
        email=email,
        organization_name=organization_name,
        slug=slug,
        password=password,
        full_name=full_name,
    )
    with transaction.atomic():
        # expired requests that were never confirmed go: nobody can use them, and they hold a
        # password hash
        SignupRequest.objects.filter(
            verified_at=None,
            created_at__lt=timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        ).delete()
        signup = SignupRequest.objects.create(
            **values, password_hash=make_password(password), language=language
        )
        transaction.on_commit(lambda: send_signup_mail.delay(signup.pk))
    return signup


def signup_for_link(uidb64: str, token: str) -> SignupRequest | None:
    """The sign-up a link points at while the link is good (unused, not expired), else None."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    signup = SignupRequest.objects.filter(pk=pk, verified_at=None).first()
    if signup is None or not signup_token.check_token(signup, token):
        return None
    return signup


def _free_slug(slug: str) -> str:
    """The address asked for, or (taken since) the same with a short suffix."""
    if not Organization.objects.filter(slug=slug).exists():
        return slug
    for _attempt in range(5):
        candidate = f"{slug[:43]}-{secrets.token_hex(3)}"
        if not Organization.objects.filter(slug=candidate).exists():
            return candidate
    raise ValidationError(_("This address is taken: sign up again with another one."))


def signup_verify(*, uidb64: str, token: str) -> OrgMembership:
    """The owner opened the link: create their account and the organization, once."""
    invalid = ValidationError(_("This link is invalid, expired or already used."))
    with transaction.atomic():
        found = signup_for_link(uidb64, token)
        if found is None:
            raise invalid
        signup = SignupRequest.objects.select_for_update().get(pk=found.pk)
        if signup.verified_at is not None:  # a second click that waited for the lock
            raise invalid
        if User.objects.filter(email__iexact=signup.email).exists():
            raise ValidationError(
                _("An account with this email exists already: log in with it instead.")
            )
        try:
            with transaction.atomic():
                user = User(
                    email=signup.email, full_name=signup.full_name, password=signup.password_hash
                )
                user.save()
                org = organization_create(
                    name=signup.organization_name,
                    slug=_free_slug(signup.slug),
                    owner_email=signup.email,
                    default_language=signup.language,
                    label=_("sign-up"),
                )
        except IntegrityError:  # the same address or slug, created at this very moment
            raise invalid from None
        signup.verified_at = timezone.now()
        signup.created_org = org
        signup.save(update_fields=["verified_at", "created_org"])
        return (
            OrgMembership.objects.for_org(org).select_related("organization", "user").get(user=user)
        )
