"""Reads of polls and suggestions: what an actor may see, what a member is asked."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404
from django.utils import timezone

from communities.selectors import communities_where
from members.models import PRESENT_STATUSES, Membership
from tenancy.permissions import can

from .models import Poll, PollTarget, Response, Suggestion

RECENTLY_CLOSED = timedelta(days=30)


def visible_polls(actor):
    """Every poll for org-wide viewers; for staff, the polls posted in one of their groups."""
    qs = Poll.objects.for_org(actor.organization)
    if can(actor, "engagement.view"):
        return qs
    groups = communities_where(actor, "engagement.view")
    return qs.filter(
        pk__in=PollTarget.objects.for_org(actor.organization)
        .filter(community__in=groups)
        .values("poll_id")
    )


def poll_for(actor, pk) -> Poll:
    try:
        return visible_polls(actor).select_related("created_by").get(pk=pk)
    except (Poll.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def targets_of(poll) -> list:
    return [
        t.community
        for t in PollTarget.objects.for_org(poll.organization)
        .filter(poll=poll)
        .select_related("community")
        .order_by("community__name")
    ]


def member_polls(org, member, now=None) -> list[dict]:
    """The polls of the member's groups that are open or closed in the last 30 days, newest
    first, each with whether the member answered: [{"poll", "answered"}]."""
    now = now or timezone.now()
    groups = Membership.objects.for_org(org).filter(member=member, status__in=PRESENT_STATUSES)
    polls = list(
        Poll.objects.for_org(org)
        .filter(
            pk__in=PollTarget.objects.for_org(org)
            .filter(community_id__in=groups.values("community_id"))
            .values("poll_id"),
            closes_at__gt=now - RECENTLY_CLOSED,
        )
        .order_by("-created_at", "-pk")[:50]
    )
    answered = set(
        Response.objects.for_org(org)
        .filter(member=member, poll__in=polls)
        .values_list("poll_id", flat=True)
    )
    return [{"poll": p, "answered": p.pk in answered, "open": p.is_open(now)} for p in polls]


def my_response(poll, member):
    if member is None:
        return None
    return Response.objects.for_org(poll.organization).filter(poll=poll, member=member).first()


def suggestions_of(org, member):
    return (
        Suggestion.objects.for_org(org)
        .filter(member=member)
        .prefetch_related("replies")
        .order_by("-created_at", "-pk")
    )
