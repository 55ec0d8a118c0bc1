"""A local Bot API for the connector's tests: a threaded http.server that answers the methods
the connector uses, as https://core.telegram.org/bots/api documents them, and records every
call. A call with a missing required parameter or one the method does not take is answered
like Telegram answers it (400), so the request shapes are checked on every test.

python-telegram-bot sends parameters form-encoded, each value JSON-encoded where it is not a
plain string (objects such as `permissions` and `reply_markup`, lists, numbers)."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl

from .local_server import LocalServer

BOT = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Qunyun",
    "username": "qunyun_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# method: (required parameters, optional parameters), from the official signatures
METHODS = {
    "getMe": (set(), set()),
    "getUpdates": (set(), {"offset", "limit", "timeout", "allowed_updates"}),
    "setWebhook": (
        {"url"},
        {
            "certificate",
            "ip_address",
            "max_connections",
            "allowed_updates",
            "drop_pending_updates",
            "secret_token",
        },
    ),
    "deleteWebhook": (set(), {"drop_pending_updates"}),
    "sendMessage": (
        {"chat_id", "text"},
        {
            "business_connection_id",
            "message_thread_id",
            "direct_messages_topic_id",
            "parse_mode",
            "entities",
            "link_preview_options",
            "disable_notification",
            "protect_content",
            "allow_paid_broadcast",
            "message_effect_id",
            "suggested_post_parameters",
            "reply_parameters",
            "reply_markup",
        },
    ),
    "banChatMember": ({"chat_id", "user_id"}, {"until_date", "revoke_messages"}),
    "unbanChatMember": ({"chat_id", "user_id"}, {"only_if_banned"}),
    "restrictChatMember": (
        {"chat_id", "user_id", "permissions"},
        {"use_independent_chat_permissions", "until_date"},
    ),
    "deleteMessage": ({"chat_id", "message_id"}, set()),
    "pinChatMessage": (
        {"chat_id", "message_id"},
        {"business_connection_id", "disable_notification"},
    ),
}


class FakeBotApi(LocalServer):
    base_path = "/bot"

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []  # (token, method, params)
        self.queued: dict[str, deque] = defaultdict(deque)  # method -> [(status, body)]
        self.updates: deque = deque()
        self.lock = threading.Lock()
        self.message_ids = 100
        self.listen(self._handler())

    # --- what the tests say ---------------------------------------------------------------

    def answer(self, method: str, status: int, body: dict) -> None:
        """The next call of `method` gets this answer (then the default ones again)."""
        self.queued[method].append((status, body))

    def fail(self, method: str, code: int, description: str, **parameters) -> None:
        body = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.answer(method, code, body)

    def push_updates(self, *updates) -> None:
        self.updates.extend(updates)

    def of(self, method: str) -> list[dict]:
        return [params for _token, name, params in self.calls if name == method]

    def tokens(self) -> set[str]:
        return {token for token, _name, _params in self.calls}

    def reset(self) -> None:
        self.calls.clear()

    # --- the server -----------------------------------------------------------------------

    def _default(self, method: str, params: dict):
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            found = [u for u in self.updates if u["update_id"] >= offset]
            self.updates = deque(found)
            return found
        if method == "sendMessage":
            self.message_ids += 1
            chat_id = int(params["chat_id"])
            chat = (
                {"id": chat_id, "type": "private", "first_name": "x"}
                if chat_id > 0
                else {"id": chat_id, "type": "supergroup", "title": "g"}
            )
            message = {
                "message_id": self.message_ids,
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
                "text": params["text"],
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        return True

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                _empty, bot, method = self.path.split("/", 2)
                token = bot.removeprefix("bot")
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = {}
                    for key, value in parse_qsl(raw, keep_blank_values=True):
                        try:
                            params[key] = json.loads(value)
                        except ValueError:
                            params[key] = value
                with api.lock:
                    api.calls.append((token, method, params))
                    status, body = api._answer(method, params)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _answer(self, method, params):
        if method not in METHODS:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        required, optional = METHODS[method]
        missing = required - params.keys()
        unknown = params.keys() - required - optional
        if missing or unknown:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": f"Bad Request: missing {sorted(missing)} unknown {sorted(unknown)}",
            }
        if self.queued[method]:
            return self.queued[method].popleft()
        return 200, {"ok": True, "result": self._default(method, params)}


# --- updates in the official format --------------------------------------------------------------

_ids = iter(range(1, 1_000_000))


def user(uid: int, first="小", last="王", username=None) -> dict:
    found = {"id": uid, "is_bot": False, "first_name": first, "last_name": last}
    if username:
        found["username"] = username
    return found


def group(chat_id: int = -1001234567890, title="健康生活交流群", type_="supergroup") -> dict:
    return {"id": chat_id, "title": title, "type": type_}


def now() -> int:
    return int(time.time())


def bot_added(chat: dict, by: dict, admin=True) -> dict:
    rights = {
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
        "can_pin_messages": True,
    }
    new = (
        {"user": BOT, "status": "administrator", **rights}
        if admin
        else {
            "user": BOT,
            "status": "member",
        }
    )
    return {
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": chat,
            "from": by,
            "date": now(),
            "old_chat_member": {"user": BOT, "status": "left"},
            "new_chat_member": new,
        },
    }


def bot_removed(chat: dict, by: dict) -> dict:
    return {
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": chat,
            "from": by,
            "date": now(),
            "old_chat_member": {"user": BOT, "status": "member"},
            "new_chat_member": {"user": BOT, "status": "kicked", "until_date": 0},
        },
    }


def member_change(chat: dict, who: dict, old: str, new: str, by: dict | None = None) -> dict:
    new_member = {"user": who, "status": new}
    if new == "kicked":
        new_member["until_date"] = 0
    return {
        "update_id": next(_ids),
        "chat_member": {
            "chat": chat,
            "from": by or who,
            "date": now(),
            "old_chat_member": {"user": who, "status": old},
            "new_chat_member": new_member,
        },
    }


def message(chat: dict, who: dict, text: str = "", **fields) -> dict:
    body = {"message_id": next(_ids), "from": who, "chat": chat, "date": now(), **fields}
    if text:
        body["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": next(_ids), "message": body}


def message_with_link(chat: dict, who: dict, text: str, url: str) -> dict:
    start = text.index(url)
    update = message(chat, who, text)
    update["message"]["entities"] = [{"type": "url", "offset": start, "length": len(url)}]
    return update
