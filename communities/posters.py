"""A group's QR poster (seed 004: 扫码进群): its join link as a QR code, with the organization's
name and the group's, in the organization's language (core/posters.py draws it)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from core import posters
from integrations.composer import MessageKind, compose


def poster_lines(community) -> list[str]:
    org = community.organization
    context = {"poster_kind": "group", "org": org.name, "community": community.name}
    return compose(MessageKind.POSTER, context, language=org.default_language).split("\n")


def poster_png(community) -> bytes:
    """The poster; the group must have a join link (`Community.join_url`)."""
    if not community.join_url:
        raise ValueError("the group has no join link")
    return posters.render(community.join_url, poster_lines(community))


def poster_url(community, org=None) -> str:
    """An address anyone (a bot) can fetch the poster from, for a week: signed, no key."""
    token = posters.sign("g", community.organization_id, community.pk)
    org = org or community.organization
    return settings.SITE_URL + reverse("member-poster", kwargs={"org": org.slug, "token": token})
