"""WeCom customer groups → Qunyun groups and memberships, and each group's 入群欢迎语.

A group's members come from `externalcontact/groupchat/get`; the last list seen is kept on
its `WeComGroup`, so a change event (客户群变更事件), the sync on connection and the nightly
sync all work the same way: fetch the list, compare, and feed who joined and who left to
`ingestion.pipeline` as `member.joined` / `member.left`, the events a REST bot sends. Only
customers (member type 2, external contacts) are members in Qunyun; the company's own staff in
the group are not. The event ids are stable per fact (`wecom:<chat>:join:<user>:<join time>`),
so the same join seen by a change event and by a sync is stored once.

The welcome material (externalcontact/group_welcome_template add/edit) carries the text the
composer makes for the group's welcome, with the group's own wording where the operator set it;
WeCom greets each new member with it once the group's owner has chosen it for the group.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from communities.models import Community, CommunityRules
from communities.services import communities_seen, community_update
from ingestion.pipeline import ingest_events
from integrations.composer import MessageKind, compose
from integrations.platforms import Platform
from tenancy.actors import Actor

from ..models import WeComGroup
from . import services
from .client import TOKEN_REFUSED, Unreachable, WeComError, in_words

log = logging.getLogger(__name__)

ACTOR_LABEL = gettext_lazy("WeCom connector")
CUSTOMER = 2  # member_list[].type: 1 the company's staff, 2 an external contact
JOIN_SCENES = {0: "invited", 1: "invite_link", 3: "qr_code"}
LIST_PAGE = 1000


def actor_for(org) -> Actor:
    return Actor.system(org, str(ACTOR_LABEL))


def _at(seconds) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC) if seconds else timezone.now()


# --- the groups' rows --------------------------------------------------------------------------


def group_row(org, chat_id: str) -> WeComGroup:
    row = WeComGroup.objects.for_org(org).filter(chat_id=chat_id).first()
    if row is None:
        row, _created = WeComGroup.objects.for_org(org).get_or_create(
            organization=org, chat_id=chat_id, defaults={"external_id": chat_id}
        )
    return row


def group_dismissed(org, chat_id: str) -> None:
    row = group_row(org, chat_id)
    row.dismissed, row.updated_at = True, timezone.now()
    row.problem = _("The group was dismissed in WeCom.")
    row.save(update_fields=["dismissed", "problem", "updated_at"])


def community_of(org, row) -> Community | None:
    return (
        Community.objects.for_org(org)
        .filter(platform=Platform.WECOM, external_id=row.external_id)
        .first()
    )


# --- syncing ---------------------------------------------------------------------------------


def sync_all(conn, client) -> dict:
    """Every customer group of the corp (groupchat/list, page by page), each synced."""
    org, cursor, counts = conn.organization, "", {"groups": 0, "events": 0}
    while True:
        page = client.call(
            "externalcontact/groupchat/list",
            {"status_filter": 0, "cursor": cursor, "limit": LIST_PAGE},
        )
        for item in page.get("group_chat_list") or []:
            counts["groups"] += 1
            try:
                counts["events"] += sync_group(conn, client, item["chat_id"])
            except WeComError as exc:
                if exc.errcode in TOKEN_REFUSED:
                    raise
                # one group WeCom will not show (left the customer-contact range…): the others go on
                group_problem(group_row(org, item["chat_id"]), in_words(exc))
        cursor = page.get("next_cursor") or ""
        if not cursor:
            break
    services.stamp(conn, "last_sync_at")
    log.info("wecom: organization %s synced: %s", org.pk, counts)
    return counts


def sync_group(conn, client, chat_id: str, *, at=None) -> int:
    """Fetch the group's details and members and apply what changed; the events accepted."""
    found = client.call("externalcontact/groupchat/get", {"chat_id": chat_id, "need_name": 1})
    return apply_group(conn, found.get("group_chat") or {}, at=at)


def apply_group(conn, chat: dict, *, at=None) -> int:
    org = conn.organization
    chat_id = chat.get("chat_id") or ""
    if not chat_id:
        return 0
    members = {
        m["userid"]: {
            "name": (m.get("group_nickname") or m.get("name") or "")[:120],
            "join_time": int(m.get("join_time") or 0),
            "join_scene": JOIN_SCENES.get(m.get("join_scene"), ""),
            "invitor": (m.get("invitor") or {}).get("userid", ""),
        }
        for m in chat.get("member_list") or []
        if m.get("type") == CUSTOMER and m.get("userid")
    }
    with transaction.atomic():
        row = WeComGroup.objects.for_org(org).select_for_update().filter(chat_id=chat_id).first()
        row = row or group_row(org, chat_id)
        before = row.members or {}
        events = [
            _event("member.joined", f"join:{uid}:{info['join_time']}", row, uid, info,
                   _at(info["join_time"]), invited_by=_inviter(info, members))
            for uid, info in members.items()
            if uid not in before
        ]  # fmt: skip
        left_at = at or timezone.now()
        events += [
            _event("member.left", f"left:{uid}:{int(left_at.timestamp())}", row, uid, info, left_at)
            for uid, info in before.items()
            if uid not in members
        ]
        row.title = (chat.get("name") or row.title)[:255]
        row.owner = chat.get("owner") or row.owner
        row.members, row.dismissed, row.problem = members, False, ""  # WeCom showed it: live
        row.synced_at = row.updated_at = timezone.now()
        row.save()
        communities = communities_seen(org, {(Platform.WECOM.value, row.external_id)})
        accepted = 0
        if events:
            result = ingest_events(actor=actor_for(org), raw_events=events)
            accepted = result.accepted
            if result.rejected:
                log.warning("wecom: events rejected: %s", result.rejected)
        _name_group(org, communities, row)
    return accepted


def _inviter(info, members) -> str | None:
    """Invited by another customer of the group (an invitation Qunyun may credit); staff who
    invite are not members."""
    invitor = info.get("invitor")
    return invitor if invitor and invitor in members else None


def _name_group(org, communities: dict, row) -> None:
    for community in communities.values():
        if row.title and community.name == community.external_id:
            community_update(actor=actor_for(org), community=community, name=row.title[:120])


def _event(type_, suffix, row, uid, info, at, **extra) -> dict:
    return {
        "id": f"wecom:{row.chat_id}:{suffix}"[:100],
        "type": type_,
        "platform": Platform.WECOM.value,
        "community": row.external_id,
        "user": uid[:100],
        "display_name": info.get("name", "")[:120],
        "occurred_at": at.astimezone(UTC).isoformat(),
        **{k: v for k, v in extra.items() if v is not None},
    }


# --- the welcome material --------------------------------------------------------------------


def welcome_text(org, community) -> str:
    rules = CommunityRules.objects.for_org(org).filter(community=community).first()
    return compose(
        MessageKind.WELCOME,
        {"community": community.name, "custom": rules.welcome_message if rules else ""},
        language=org.default_language,
        org=org,
        community_id=community.pk,
    )


def sync_welcome(conn, client, row, community=None) -> str:
    """Make the group's welcome material match its welcome (add it the first time, edit it
    after a change); returns the material's id. Raises WeComError / Unreachable."""
    org = conn.organization
    community = community or community_of(org, row)
    if community is None:
        return row.welcome_template_id
    text = welcome_text(org, community)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if row.welcome_template_id and row.welcome_digest == digest:
        return row.welcome_template_id
    body = {"text": {"content": text[:3000]}}
    if conn.agent_id:
        body["agentid"] = int(conn.agent_id)
    if row.welcome_template_id:
        client.call(
            "externalcontact/group_welcome_template/edit",
            {"template_id": row.welcome_template_id, **body},
        )
        template_id = row.welcome_template_id
    else:
        found = client.call("externalcontact/group_welcome_template/add", {**body, "notify": 0})
        template_id = found["template_id"]
    WeComGroup.objects.for_org(org).filter(pk=row.pk).update(
        welcome_template_id=template_id, welcome_digest=digest, updated_at=timezone.now()
    )
    row.welcome_template_id, row.welcome_digest = template_id, digest
    return template_id


def sync_welcomes(conn, client) -> int:
    """Every live group's material brought up to date (the operator changed a welcome);
    returns how many were written. A group WeCom refuses is noted on the group."""
    org, written = conn.organization, 0
    with override(org.default_language):
        for row in WeComGroup.objects.for_org(org).filter(dismissed=False):
            before = row.welcome_digest
            try:
                sync_welcome(conn, client, row)
            except WeComError as exc:
                group_problem(row, _("The welcome material could not be saved: %(error)s")
                              % {"error": in_words(exc)})  # fmt: skip
                continue
            except Unreachable:
                raise
            written += row.welcome_digest != before
    return written


def group_problem(row, problem: str) -> None:
    WeComGroup.objects.for_org(row.organization_id).filter(pk=row.pk).update(
        problem=problem[:300], updated_at=timezone.now()
    )
    row.problem = problem[:300]
