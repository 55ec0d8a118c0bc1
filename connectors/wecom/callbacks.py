"""WeCom's callback: the encrypted envelope, and the 客户群变更事件 inside it.

    <xml><ToUserName>corp id</ToUserName><AgentID>…</AgentID><Encrypt>…</Encrypt></xml>

decrypts (connectors/wecom/crypto.py) to an event such as

    <xml>… <Event>change_external_chat</Event><ChatId>…</ChatId>
      <ChangeType>create | update | dismiss</ChangeType>
      <UpdateDetail>add_member | del_member | change_owner | change_name | change_notice</UpdateDetail>
      <JoinScene>0 | 1 | 3</JoinScene><QuitScene>0 | 1</QuitScene><CreateTime>…</CreateTime> …</xml>

A create or update fetches the group (groupchat/get) and applies what changed
(connectors/wecom/groups.py): joins and leaves become `member.joined` / `member.left`. A dismiss
marks the group. Other events (contacts, tags) are not group activity and are ignored. XML is
read with defusedxml: the payload comes from the network.
"""

from __future__ import annotations

import logging
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils.translation import override

from . import crypto, groups, services
from .client import TOKEN_REFUSED, Unreachable, WeComError, in_words

log = logging.getLogger(__name__)
MAX_BYTES = 200_000


def parse(xml: bytes | str) -> dict:
    """The top-level fields of a WeCom XML document; crypto.Refused(400) when it is not one."""
    if len(xml) > MAX_BYTES:
        raise crypto.Refused(400, "size")
    try:
        root = fromstring(xml)
    except (ParseError, DefusedXmlException, ValueError):
        raise crypto.Refused(400, "xml") from None
    return {child.tag: (child.text or "").strip() for child in root}


def encrypted_part(body: bytes) -> str:
    found = parse(body).get("Encrypt", "")
    if not found:
        raise crypto.Refused(400, "no Encrypt")
    return found


def handle_event(conn, fields: dict, client_factory=None) -> int:
    """Apply one decrypted event; the events accepted."""
    org = conn.organization
    services.stamp(conn, "last_update_at")
    if fields.get("Event") != "change_external_chat":
        return 0
    chat_id, change = fields.get("ChatId", ""), fields.get("ChangeType", "")
    if not chat_id:
        return 0
    if change == "dismiss":
        groups.group_dismissed(org, chat_id)
        return 0
    if change not in ("create", "update"):
        return 0
    at = groups._at(fields.get("CreateTime") or 0)
    kwargs = {"client_factory": client_factory} if client_factory else {}
    client = services.client_for(conn, **kwargs)
    if client is None:
        return 0
    with override(org.default_language), client:
        try:
            accepted = groups.sync_group(conn, client, chat_id, at=at)
            if change == "create":
                groups.sync_welcome(conn, client, groups.group_row(org, chat_id))
            return accepted
        except WeComError as exc:
            if exc.errcode in TOKEN_REFUSED:
                services.mark_broken(conn, services.refused_message(exc))
            else:
                services.note_error(conn, in_words(exc))
        except Unreachable as exc:
            # the nightly sync compares the member lists again: nothing is lost
            services.note_error(conn, services.unreachable_message(exc))
    return 0
