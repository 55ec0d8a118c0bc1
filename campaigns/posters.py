"""A campaign's QR poster: its public member page as a QR code, with the organization's name
and the offer (name, price), in the organization's language (core/posters.py draws it)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from core import posters
from integrations.composer import MessageKind, compose
from members.access import public_page_url


def poster_context(campaign) -> dict:
    return {
        "poster_kind": "campaign",
        "org": campaign.organization.name,
        "campaign_kind": campaign.kind,
        "name": campaign.name,
        "price": campaign.price,
        "original_price": campaign.original_price,
    }


def poster_lines(campaign) -> list[str]:
    org = campaign.organization
    return compose(
        MessageKind.POSTER, poster_context(campaign), language=org.default_language
    ).split("\n")


def poster_link(campaign) -> str:
    """What the code holds: the campaign's public page (the same for everyone, no token)."""
    return public_page_url(campaign.organization, f"c/{campaign.pk}/")


def poster_png(campaign) -> bytes:
    return posters.render(poster_link(campaign), poster_lines(campaign))


def poster_url(campaign) -> str:
    """An address anyone can fetch the poster from, for a week: signed, no key."""
    token = posters.sign("c", campaign.organization_id, campaign.pk)
    org = campaign.organization
    return settings.SITE_URL + reverse("member-poster", kwargs={"org": org.slug, "token": token})
