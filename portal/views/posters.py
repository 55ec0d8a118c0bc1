"""QR posters at a signed address (core/posters.py): what a bot fetches to send a member a
group's poster, and what a member may forward. No session: the signature is the credential,
it names one organization's group or campaign and expires (another organization's is a 404)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from campaigns import posters as campaign_posters
from communities import posters as group_posters
from communities.models import Community
from core import posters

from ..pages import shown_campaigns
from ..session import enter_org


@require_GET
def poster(request, org, token):
    organization = enter_org(request, org)
    found = posters.unsign(token)
    if found is None or found[1] != organization.pk:
        raise Http404
    kind, _org_id, pk = found
    if kind == "g":
        community = get_object_or_404(
            Community.objects.for_org(organization).exclude(join_url=""), pk=pk
        )
        community.organization = organization
        png = group_posters.poster_png(community)
    else:
        campaign = get_object_or_404(shown_campaigns(organization), pk=pk)
        campaign.organization = organization
        png = campaign_posters.poster_png(campaign)
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="poster-{kind}{pk}.png"'
    response["Cache-Control"] = "public, max-age=3600"
    return response
