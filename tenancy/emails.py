from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


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
