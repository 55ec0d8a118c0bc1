"""How a member gets in: a personal link, a Telegram Mini App opening; and out."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_POST

from core import ratelimit
from ingestion.pipeline import record_member_event
from integrations import telegram_webapp
from integrations.platforms import Platform
from members import access
from members.models import PRESENT_STATUSES, MemberIdentity, MemberSession, Membership
from tenancy.actors import Actor

from ..session import COOKIE, cookie_path, enter_org, member_page, set_session_cookie

# Opening links and Mini Apps: per client address, to make guessing tokens pointless.
ENTRY_LIMIT, ENTRY_WINDOW = 30, 60


def _throttled(request, org) -> bool:
    address = request.META.get("REMOTE_ADDR", "")
    return not ratelimit.hit(
        "member-entry", f"{org.pk}:{address}", limit=ENTRY_LIMIT, window=ENTRY_WINDOW
    ).allowed


def open_link(request, org, token):
    """Exchange a personal link for a session cookie, then show the page it was sent for.
    A member who already has a session here and opens the link again just goes on."""
    organization = enter_org(request, org)
    if _throttled(request, organization):
        return render(
            request,
            "portal/link_refused.html",
            {"org": organization, "reason": "throttled", "keywords": keyword_hint()},
            status=429,
        )
    current = access.session_member(organization, request.COOKIES.get(COOKIE))
    try:
        key, link = access.open_link(organization, token)
    except access.LinkRefused as refused:
        if current is not None and refused.reason == "used":
            return redirect(cookie_path(organization))
        return render(
            request,
            "portal/link_refused.html",
            {"org": organization, "reason": refused.reason, "keywords": keyword_hint()},
            status=410 if refused.reason in ("used", "expired", "revoked") else 404,
        )
    response = redirect(cookie_path(organization) + link.target)
    set_session_cookie(response, organization, key)
    return response


def keyword_hint() -> list[str]:
    """The words a member can send the bot for a new link, in the page's language."""
    english = translation.get_language() == "en"
    return [word for word in access.LINK_KEYWORDS if word.isascii() == english][:3]


@member_page(signed_in=False)
def signin_help(request, org):
    return render(
        request, "portal/signin.html", {"org": org, "keywords": keyword_hint(), "member": None}
    )


@require_POST
@member_page(signed_in=False)
def signout(request, org):
    access.end_session(org, request.COOKIES.get(COOKIE))
    response = redirect("member-signin", org=org.slug)
    response.delete_cookie(COOKIE, path=cookie_path(org))
    return response


@member_page(signed_in=False)
def telegram_app(request, org):
    """The Mini App's start page: member.js sends Telegram's initData to `telegram_session`."""
    return render(request, "portal/telegram.html", {"org": org, "member": request.member})


@require_POST
def telegram_session(request, org):
    """Verify a Mini App's initData with the organization's Telegram bot token and start a
    session for the member with that Telegram identity."""
    organization = enter_org(request, org)
    if _throttled(request, organization):
        return JsonResponse({"error": "throttled"}, status=429)
    token = telegram_webapp.bot_token(organization)
    if not token:
        raise Http404
    try:
        fields = telegram_webapp.verified_fields(
            request.POST.get("init_data", ""),
            token,
            max_age=settings.TELEGRAM_INIT_DATA_MAX_AGE,
        )
    except telegram_webapp.InitDataRefused as refused:
        return JsonResponse({"error": refused.reason}, status=403)
    user = fields["user"]
    identity = (
        MemberIdentity.objects.for_org(organization)
        .select_related("member")
        .filter(platform=Platform.TELEGRAM, external_user_id=str(user["id"]))
        .first()
    )
    if identity is None or not access.may_have_access(identity.member):
        return JsonResponse({"error": "unknown_member"}, status=404)
    key = access.start_session(identity.member, MemberSession.Via.TELEGRAM)
    _record_opening(organization, identity, fields)
    response = JsonResponse({"next": reverse("member-me", kwargs={"org": organization.slug})})
    set_session_cookie(response, organization, key)
    return response


def _record_opening(organization, identity, fields: dict) -> None:
    """The opening as a `member.opened_app` event (the member is around: active, as any event
    a bot reports), in the group the Mini App link names (`startapp=g<group number>`), or else
    in each group the member is in on Telegram. The same `initData` opened again is no event."""
    memberships = list(
        Membership.objects.for_org(organization)
        .filter(identity=identity, status__in=PRESENT_STATUSES)
        .select_related("community", "identity", "identity__member")
        .order_by("pk")
    )
    named = fields.get("start_param", "")
    if named.startswith("g") and named[1:].isdigit():
        memberships = [m for m in memberships if m.community_id == int(named[1:])] or memberships
    actor, now = Actor.for_member(identity.member), timezone.now()
    for membership in memberships:
        record_member_event(
            actor=actor,
            membership=membership,
            type_="member.opened_app",
            event_id=f"tg-app-{membership.pk}-{fields['auth_date']}",
            at=now,
        )
