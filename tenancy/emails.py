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
