"""Outbox actions of WeCom customer groups, through what WeCom's API allows.

| action          | what happens                                                             |
| --------------- | ------------------------------------------------------------------------ |
| member.welcome  | the group's 入群欢迎语 material is brought up to date; WeCom greets the member with it: done |
| post.publish, group.announce | a 客户群群发 task (externalcontact/add_msg_template, chat_type "group") for the group's owner: the action waits for staff until the send result says it went out |

Nothing else is handed to this connector (`CARRIED`, registered with
`integrations.delivery.connector_platforms`): WeCom's API reads no message content and removes
nobody from a customer group, so warnings, removals, replies and private messages of WeCom
groups stay in the outbox for a REST bot, if the organization runs one.

`check_sends` asks WeCom (externalcontact/get_groupmsg_send_result) about the waiting tasks: sent
→ done; failed → failed in words; still not sent after WECOM_SEND_TASK_DAYS → failed in words.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from integrations import delivery
from integrations.models import Action, ActionKind, ActionStatus
from integrations.platforms import Platform

from ..models import WeComGroup, WeComSendTask
from . import groups, services
from .client import TOKEN_REFUSED, Unreachable, WeComClient, WeComError, in_words

log = logging.getLogger(__name__)

CARRIED = (ActionKind.WELCOME, ActionKind.PUBLISH, ActionKind.ANNOUNCE)
NETWORK_RETRY = timedelta(seconds=60)
SENT, NOT_FRIEND, ALREADY_RECEIVED = 1, 2, 3  # get_groupmsg_send_result's statuses


class Broken(Exception):
    """The secret was refused: stop, keep the actions for later."""


class Failed(Exception):
    """This action cannot be carried out; the message is what the operator reads."""


def send_due(org, *, limit=100, client_factory=WeComClient) -> dict:
    """Carry out the organization's pending WeCom actions. Returns counts."""
    with override(org.default_language):
        return _send_due(org, limit, client_factory)


def _send_due(org, limit, client_factory) -> dict:
    counts = {"done": 0, "failed": 0, "waiting": 0, "held": 0}
    conn, client = services.connected(org, client_factory)
    if client is None:
        return counts
    actor = groups.actor_for(org)
    actions = delivery.lease_for_connector(
        actor=actor, platform=Platform.WECOM, kinds=CARRIED, limit=limit
    )
    if not actions:
        client.close()
        return counts
    externals = {a.payload.get("community_external_id") for a in actions} - {None}
    rows = {
        row.external_id: row
        for row in WeComGroup.objects.for_org(org).filter(external_id__in=externals)
    }
    with client:
        for index, action in enumerate(actions):
            try:
                outcome, detail = carry_out(conn, client, rows, action)
            except Unreachable as exc:
                services.note_error(conn, services.unreachable_message(exc))
                until = timezone.now() + NETWORK_RETRY
                for rest in actions[index:]:
                    delivery.postpone(actor=actor, action=rest, until=until)
                counts["held"] += len(actions) - index
                break
            except Broken:
                for rest in actions[index:]:
                    delivery.postpone(actor=actor, action=rest, until=timezone.now())
                break
            except Failed as failed:
                delivery.acknowledge(
                    actor=actor, action=action, status=ActionStatus.FAILED, detail=str(failed)
                )
                counts["failed"] += 1
                continue
            if outcome == ActionStatus.WAITING_STAFF:
                (msgid, detail), row = detail, rows[action.payload["community_external_id"]]
                with transaction.atomic():  # the task and the action's state together
                    WeComSendTask.objects.create(
                        organization=org,
                        action=action,
                        msgid=msgid,
                        chat_id=row.chat_id,
                        sender=row.owner,
                    )
                    delivery.await_staff(actor=actor, action=action, detail=detail)
                counts["waiting"] += 1
            else:
                delivery.acknowledge(
                    actor=actor, action=action, status=ActionStatus.DONE, detail=detail
                )
                counts["done"] += 1
            services.stamp(conn, "last_send_at")
    return counts


def carry_out(conn, client, rows, action) -> tuple[str, object]:
    """(the action's next status, what was done in words); for a send task, (the status,
    (its msgid, what was done in words))."""
    row = rows.get(action.payload.get("community_external_id") or "")
    if row is None:
        raise Failed(
            _(
                "This group is not a WeCom customer group Qunyun knows: groups come from the "
                "WeCom connection (its sync, or the group's creation in WeCom)."
            )
        )
    if row.dismissed:
        raise Failed(_("The group was dismissed in WeCom."))
    try:
        if action.kind == ActionKind.WELCOME:
            template_id = groups.sync_welcome(conn, client, row)
            return ActionStatus.DONE, _(
                "WeCom greets new members with the group's welcome material (%(id)s) once the "
                "group's owner has chosen it for the group"
            ) % {"id": template_id}
        return ActionStatus.WAITING_STAFF, _send_task(conn, client, row, action)
    except WeComError as exc:
        if exc.errcode in TOKEN_REFUSED:
            services.mark_broken(conn, services.refused_message(exc))
            raise Broken from None
        raise Failed(in_words(exc)) from None


def _send_task(conn, client, row, action) -> str:
    if not row.owner:
        raise Failed(_("WeCom has not told Qunyun who owns this group yet: sync the groups."))
    found = client.call(
        "externalcontact/add_msg_template",
        {
            "chat_type": "group",
            "sender": row.owner,
            "chat_id_list": [row.chat_id],
            "text": {"content": action.payload["text"][:4000]},
        },
    )
    if row.chat_id in (found.get("fail_list") or []) or not found.get("msgid"):
        raise Failed(_("WeCom did not make a send task for this group."))
    waiting = _("waiting for %(owner)s to confirm the send in WeCom") % {"owner": row.owner}
    return found["msgid"], waiting


# --- send results -----------------------------------------------------------------------------


def check_sends(org, *, client_factory=WeComClient) -> dict:
    """Finish the waiting actions whose send task WeCom says went out or failed."""
    with override(org.default_language):
        return _check_sends(org, client_factory)


def _check_sends(org, client_factory) -> dict:
    counts = {"done": 0, "failed": 0, "waiting": 0}
    conn, client = services.connected(org, client_factory)
    if client is None:
        return counts
    actor = groups.actor_for(org)
    tasks = list(
        WeComSendTask.objects.for_org(org)
        .filter(finished_at=None)
        .select_related("action")
        .order_by("pk")[:200]
    )
    deadline = timezone.now() - timedelta(days=settings.WECOM_SEND_TASK_DAYS)
    with client:
        for task in tasks:
            if task.action.status != ActionStatus.WAITING_STAFF:
                _finish(task)
                continue
            try:
                status, sent_at = _send_result(client, task)
            except WeComError as exc:
                if exc.errcode in TOKEN_REFUSED:
                    services.mark_broken(conn, services.refused_message(exc))
                    break
                services.note_error(conn, in_words(exc))
                continue
            except Unreachable as exc:
                services.note_error(conn, services.unreachable_message(exc))
                break
            outcome = _outcome(task, status, sent_at, deadline)
            if outcome is None:
                WeComSendTask.objects.for_org(org).filter(pk=task.pk).update(
                    checked_at=timezone.now()
                )
                counts["waiting"] += 1
                continue
            result, detail = outcome
            delivery.acknowledge(actor=actor, action=task.action, status=result, detail=detail)
            _finish(task)
            counts["done" if result == ActionStatus.DONE else "failed"] += 1
            if result == ActionStatus.DONE:
                services.stamp(conn, "last_send_at")
    return counts


def _send_result(client, task) -> tuple[int | None, int]:
    """The group's status in the task (None when WeCom lists nothing for it yet)."""
    cursor = ""
    while True:
        found = client.call(
            "externalcontact/get_groupmsg_send_result",
            {"msgid": task.msgid, "userid": task.sender, "limit": 1000, "cursor": cursor},
        )
        for item in found.get("send_list") or []:
            if item.get("chat_id") == task.chat_id:
                return int(item.get("status", 0)), int(item.get("send_time") or 0)
        cursor = found.get("next_cursor") or ""
        if not cursor:
            return None, 0


def _outcome(task, status, sent_at, deadline):
    if status == SENT:
        return ActionStatus.DONE, _("sent in WeCom by %(owner)s") % {"owner": task.sender}
    if status in (NOT_FRIEND, ALREADY_RECEIVED):
        reason = (
            _("WeCom did not send it: the group already received another mass message today")
            if status == ALREADY_RECEIVED
            else _("WeCom did not send it to this group (status %(status)s)") % {"status": status}
        )
        return ActionStatus.FAILED, reason
    if task.created_at < deadline:
        return ActionStatus.FAILED, _(
            "Not sent: %(owner)s did not confirm the send in WeCom within %(days)s days."
        ) % {"owner": task.sender, "days": settings.WECOM_SEND_TASK_DAYS}
    return None


def _finish(task) -> None:
    WeComSendTask.objects.for_org(task.organization_id).filter(pk=task.pk).update(
        finished_at=timezone.now(), checked_at=timezone.now()
    )


def waiting_for_staff(org) -> int:
    return (
        Action.objects.for_org(org)
        .filter(status=ActionStatus.WAITING_STAFF, payload__platform=Platform.WECOM.value)
        .count()
    )
