"""How members reach their own pages without an account.

- A **personal link** is made for one member when the bot is about to invite them to do
  something. The token is random (192 bits) and only its SHA-256 is stored; it expires after
  `MEMBER_LINK_HOURS` and works once: opening it starts a **member session** (a cookie scoped to
  the organization's member pages) and marks the link used.
- A **Telegram Mini App** opening starts a session from `initData` verified with the group
  bot's token (integrations/telegram_webapp.py); the member is found by their Telegram identity.
- Blocking a member or erasing their data revokes their links and sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from core.bulk import insert_rows
from tenancy.rls import org_hint

from .models import Block, Member, MemberLink, MemberSession

# A member who sends one of these words in a group gets their personal link in a private
# message (never in the group: whoever opened it first would be signed in as them).
LINK_KEYWORDS = {
    "我的": "me/",
    "积分": "me/",
    "签到": "me/",
    "秒杀": "",
    "活动": "",
    "拼团": "",
    "抽奖": "",
    "me": "me/",
    "points": "me/",
    "deals": "",
    "投票": "p/",
    "问卷": "p/",
    "建议": "ideas/",
    "polls": "p/",
    "ideas": "ideas/",
}

# A member who sends one of these words in a group gets the group's QR poster (its join link,
# set by the operator) in a private message, to share with friends (seed 004: 扫码进群).
POSTER_KEYWORDS = frozenset({"海报", "进群海报", "二维码", "poster"})

# A session's key travels in a cookie; refresh `last_seen_at` at most this often.
_SEEN_EVERY = timedelta(minutes=5)


class LinkRefused(Exception):
    """A personal link that cannot start a session: `reason` is unknown, used, expired or
    revoked (the page tells the member how to get a new one)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _blocked(org, member_ids) -> set:
    return set(
        Block.objects.for_org(org)
        .filter(member_id__in=member_ids, lifted_at=None)
        .values_list("member_id", flat=True)
    )


def _excluded(member) -> bool:
    return member.erased_at is not None or member.merged_into_id is not None


def may_have_access(member) -> bool:
    """Erased, merged and blocked members get no links and no sessions."""
    return not _excluded(member) and not _blocked(member.organization, [member.pk])


def personal_link(member, target: str = "", *, hours: int | None = None) -> str:
    """An absolute, single-use link to `target` (a path under the organization's member pages,
    e.g. "c/12/") for this member; "" when the member may not have one (blocked, erased)."""
    return personal_links(member.organization, [member], target, hours=hours).get(member.pk, "")


def personal_links(org, members, target: str = "", *, hours: int | None = None) -> dict:
    """{member id: personal link} for many members at once (reminder runs, draws); members who
    may not have one are left out. One query for blocks, one insert."""
    unique = list({member.pk: member for member in members}.values())
    links = personal_links_to(org, [(member, target) for member in unique], hours=hours)
    return {member.pk: link for member, link in zip(unique, links, strict=True) if link}


def personal_links_to(org, wanted, *, hours: int | None = None) -> list[str]:
    """A personal link for each (member, target) of `wanted`, in order: each to its own page
    (a member who left two groups gets a link to each group's leaving survey); "" for members
    who may not have one (blocked, erased, merged). One query for blocks, one insert."""
    blocked = _blocked(org, [m.pk for m, _target in wanted if not _excluded(m)])
    ok = [not _excluded(m) and m.pk not in blocked for m, _target in wanted]
    links = iter(
        _issue_links(org, [(m.pk, t) for (m, t), y in zip(wanted, ok, strict=True) if y], hours)
    )
    return [next(links) if y else "" for y in ok]


def personal_links_by_id(org, member_ids, target: str = "", *, hours: int | None = None) -> dict:
    """{member id: personal link to `target`} for thousands of members at once (the wake-up):
    who may have one (not blocked, erased or merged) is read in one query, without loading the
    members, and the links are written in one statement."""
    allowed = list(
        Member.objects.for_org(org)
        .filter(pk__in=set(member_ids), erased_at=None, merged_into=None)
        .exclude(
            Exists(Block.objects.for_org(org).filter(member_id=OuterRef("pk"), lifted_at=None))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    links = _issue_links(org, [(pk, target) for pk in allowed], hours)
    return dict(zip(allowed, links, strict=True))


def _issue_links(org, wanted, hours) -> list[str]:
    """A new link for each (member id, target) of `wanted`, in order: one insert."""
    now = timezone.now()
    expires = now + timedelta(hours=hours or settings.MEMBER_LINK_HOURS)
    tokens = [secrets.token_urlsafe(24) for _ in wanted]
    rows = [
        (org.pk, member_id, _hash(token), target[:200], now, expires)
        for token, (member_id, target) in zip(tokens, wanted, strict=True)
    ]
    with org_hint(org.pk):
        insert_rows(MemberLink, LINK_COLUMNS, rows)
    # the address is the same but for the token (which is URL-safe): reversed once
    head, _sep, tail = reverse(
        "member-link", kwargs={"org": org.slug, "token": _TOKEN_MARK}
    ).rpartition(_TOKEN_MARK)
    return [f"{settings.SITE_URL}{head}{token}{tail}" for token in tokens]


LINK_COLUMNS = ["organization", "member", "token_hash", "target", "created_at", "expires_at"]
_TOKEN_MARK = "TOKEN"  # noqa: S105 - a placeholder in an address, not a secret


def public_page_url(org, target: str = "") -> str:
    """The same page for everyone (group posts): no token, no session."""
    return settings.SITE_URL + reverse("member-home", kwargs={"org": org.slug}) + target


def open_link(org, token: str) -> tuple[str, MemberLink]:
    """Use a personal link: returns (session key, link). Raises LinkRefused."""
    now = timezone.now()
    with transaction.atomic():
        link = (
            MemberLink.objects.for_org(org)
            .select_for_update()
            .select_related("member")
            .filter(token_hash=_hash(token or ""))
            .first()
        )
        if link is None:
            raise LinkRefused("unknown")
        if link.revoked_at is not None:
            raise LinkRefused("revoked")
        if link.used_at is not None:
            raise LinkRefused("used")
        if link.expires_at <= now:
            raise LinkRefused("expired")
        if not may_have_access(link.member):
            raise LinkRefused("revoked")
        link.used_at = now
        link.save(update_fields=["used_at"])
        key = start_session(link.member, MemberSession.Via.LINK)
    return key, link


def start_session(member, via: str) -> str:
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    MemberSession.objects.create(
        organization=member.organization,
        member=member,
        key_hash=_hash(key),
        via=via,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.MEMBER_SESSION_DAYS),
    )
    return key


def session_member(org, key: str | None) -> Member | None:
    """The member signed in with this session key, or None (unknown, expired, revoked, or the
    member was since merged into another: their phone signs in anew, as the surviving one)."""
    if not key:
        return None
    now = timezone.now()
    session = (
        MemberSession.objects.for_org(org)
        .select_related("member", "member__tier")
        .filter(key_hash=_hash(key), revoked_at=None, expires_at__gt=now)
        .first()
    )
    if session is None or _excluded(session.member):
        return None
    if now - session.last_seen_at > _SEEN_EVERY:
        MemberSession.objects.for_org(org).filter(pk=session.pk).update(last_seen_at=now)
    member = session.member
    member.organization = org  # known already: no query when the member's actor asks for it
    return member


def end_session(org, key: str | None) -> None:
    if key:
        MemberSession.objects.for_org(org).filter(key_hash=_hash(key), revoked_at=None).update(
            revoked_at=timezone.now()
        )


def revoke_access(org, member_ids) -> int:
    """Revoke every open link and session of these members (block, erasure)."""
    member_ids = list(member_ids)
    if not member_ids:
        return 0
    now = timezone.now()
    links = (
        MemberLink.objects.for_org(org)
        .filter(member_id__in=member_ids, revoked_at=None)
        .filter(Q(used_at=None))
        .update(revoked_at=now)
    )
    sessions = (
        MemberSession.objects.for_org(org)
        .filter(member_id__in=member_ids, revoked_at=None)
        .update(revoked_at=now)
    )
    return links + sessions
