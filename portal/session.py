"""Who is looking at a member page: the organization from the address, the member from the
session cookie (scoped to the organization's member pages, so two organizations' sessions
never meet). Another organization's object, or another member's, is a 404."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation

from core.local_memo import MISSING, LocalMemo
from members import access
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.scope import set_current_org

COOKIE = "qy_member"
ORG_ID_CACHE_SECONDS = 300
# An address's organization id, also in each process's memory: the stock poll and the sold-out
# answer then make no round trip for it. An organization's address changes rarely; its old
# address keeps working this long in a process that just read it.
_LOCAL_ORG_IDS = LocalMemo(seconds=60)


def cookie_path(org) -> str:
    return reverse("member-home", kwargs={"org": org.slug})


def set_session_cookie(response, org, key: str) -> None:
    response.set_cookie(
        COOKIE,
        key,
        max_age=settings.MEMBER_SESSION_DAYS * 86400,
        path=cookie_path(org),
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )


def org_id_for_slug(slug: str) -> int | None:
    """The organization's id from the cache when it can: the stock poll makes no query."""
    key = f"qunyun:org-id:{slug}"
    org_id = _LOCAL_ORG_IDS.get(key)
    if org_id is not MISSING:
        return org_id
    org_id = cache.get(key)
    if org_id is None:
        org_id = Organization.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if org_id is not None:
            cache.set(key, org_id, ORG_ID_CACHE_SECONDS)
    if org_id is not None:
        _LOCAL_ORG_IDS.set(key, org_id)
    return org_id


def enter_org(request, slug: str) -> Organization:
    """Resolve the organization, put it in scope (the dashboard middleware resets it after the
    response), and speak its language unless the member chose one."""
    org = get_object_or_404(Organization, slug=slug)
    request.organization = org
    request._org_scope_token = set_current_org(org)
    timezone.activate(org.tzinfo)
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(org.default_language)
        request.LANGUAGE_CODE = org.default_language
    return org


def member_page(*, signed_in: bool = True):
    """A member page view `view(request, org, ...)`. With `signed_in`, a visitor without a
    session is sent to the page that says how to get a personal link."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, org, *args, **kwargs):
            organization = enter_org(request, org)
            member = access.session_member(organization, request.COOKIES.get(COOKIE))
            request.member = member
            request.member_actor = Actor.for_member(member) if member is not None else None
            if signed_in and member is None:
                if request.method != "GET":
                    raise Http404
                return redirect("member-signin", org=organization.slug)
            return view(request, organization, *args, **kwargs)

        return wrapped

    return decorate
