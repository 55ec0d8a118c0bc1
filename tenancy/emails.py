from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def send_invitation_email(invitation, token: str, actor) -> None:
    """Mail the single-use link, in the organization's language."""
    org = invitation.organization
    link = settings.SITE_URL + reverse("invitation-accept", args=[token])
    with translation.override(org.default_language):
        context = {
            "organization": org,
            "invitation": invitation,
            "link": link,
            "inviter": actor.label,
        }
        subject = render_to_string("tenancy/emails/invitation_subject.txt", context).strip()
        body = render_to_string("tenancy/emails/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])


def send_password_reset_email(user, language: str) -> None:
    """Django's reset mail (same templates and context), with the link on SITE_URL."""
    site = urlsplit(settings.SITE_URL)
    context = {
        "email": user.email,
        "domain": site.netloc,
        "site_name": site.netloc,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": site.scheme or "https",
    }
    with translation.override(language):
        PasswordResetForm().send_mail(
            "registration/password_reset_subject.txt",
            "registration/password_reset_email.html",
            context,
            None,
            user.email,
        )


def send_signup_email(signup) -> None:
    """The sign-up's mail, in the language the page was in: the link that creates the
    organization, or, for an address that has an account already, where to log in."""
    from .models import User
    from .signup import link_parts

    context = {"signup": signup, "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)}
    if User.objects.filter(email__iexact=signup.email).exists():
        template = "signup_exists"
        context["login_link"] = settings.SITE_URL + reverse("login")
        context["reset_link"] = settings.SITE_URL + reverse("password_reset")
    else:
        template = "signup"
        context["link"] = settings.SITE_URL + reverse("signup-verify", kwargs=link_parts(signup))
    with translation.override(signup.language):
        subject = render_to_string(f"tenancy/emails/{template}_subject.txt", context).strip()
        body = render_to_string(f"tenancy/emails/{template}_body.txt", context)
    send_mail(subject, body, None, [signup.email])
