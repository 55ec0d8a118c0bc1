"""A local WeCom server API for the connector's tests: a threaded http.server answering the
calls the connector makes (`/cgi-bin/gettoken` and the externalcontact methods), as WeCom's
documentation gives them, recording every call. A call without a valid access_token gets
42001 (expired) or 40014 (invalid), as WeCom answers; a body with a missing required field or
an unknown one gets 40058, so the request shapes are checked on every test.

Also: the callback side, built from the documented algorithm (signature, AES-256-CBC with the
EncodingAESKey, PKCS#7 to 32 bytes, random(16) + length + message + receive id)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .local_server import LocalServer

CORP_ID = "ww0123456789abcdef"
SECRET = "contact-secret-of-org-a-0123456789"
TOKEN = "QunyunCallbackToken1"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters

# path: (required fields, optional fields)
METHODS = {
    "externalcontact/groupchat/list": (
        set(),
        {"status_filter", "owner_filter", "cursor", "limit"},
    ),
    "externalcontact/groupchat/get": ({"chat_id"}, {"need_name"}),
    "externalcontact/group_welcome_template/add": (
        set(),
        {"text", "image", "link", "miniprogram", "file", "video", "agentid", "notify"},
    ),
    "externalcontact/group_welcome_template/edit": (
        {"template_id"},
        {"text", "image", "link", "miniprogram", "file", "video", "agentid"},
    ),
    "externalcontact/add_msg_template": (
        {"chat_type"},
        {
            "external_userid",
            "chat_id_list",
            "tag_filter",
            "sender",
            "allow_select",
            "text",
            "attachments",
        },
    ),
    "externalcontact/get_groupmsg_send_result": ({"msgid", "userid"}, {"limit", "cursor"}),
    "externalcontact/get_groupmsg_task": ({"msgid"}, {"limit", "cursor"}),
}


class FakeWeCom(LocalServer):
    base_path = "/cgi-bin"

    def __init__(self):
        self.calls: list[tuple[str, dict, dict]] = []  # (path, query, body)
        self.queued: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.expires_in = 7200
        self.secrets = {CORP_ID: SECRET}
        self.groups: dict[str, dict] = {}  # chat_id -> group_chat
        self.send_status: dict[str, int] = {}  # msgid -> status for its groups
        self.msg_chats: dict[str, list] = {}  # msgid -> chat_id_list
        self.msgids = 0
        self.templates = 0
        self.listen(self._handler())

    # --- what the tests say ---------------------------------------------------------------

    def answer(self, path: str, body: dict) -> None:
        self.queued[path].append(body)

    def expire_tokens(self) -> None:
        """Every token given so far is expired now (WeCom answers 42001)."""
        self.valid_tokens.clear()

    def add_group(self, chat_id, name, owner, members) -> dict:
        """members: [(userid, name, type, join_scene)]"""
        group = {
            "chat_id": chat_id,
            "name": name,
            "owner": owner,
            "create_time": 1700000000,
            "notice": "",
            "member_list": [],
            "admin_list": [],
        }
        self.groups[chat_id] = group
        for member in members:
            self.join(chat_id, *member)
        return group

    def join(self, chat_id, userid, name, type_=2, join_scene=3, join_time=1700000100):
        entry = {
            "userid": userid,
            "type": type_,
            "join_time": join_time,
            "join_scene": join_scene,
            "invitor": {"userid": "staff-zhang"},
            "group_nickname": "",
            "name": name,
        }
        self.groups[chat_id]["member_list"].append(entry)

    def leave(self, chat_id, userid):
        group = self.groups[chat_id]
        group["member_list"] = [m for m in group["member_list"] if m["userid"] != userid]

    def of(self, path: str) -> list[dict]:
        return [body for name, _query, body in self.calls if name == path]

    def paths(self) -> list[str]:
        return [name for name, _query, _body in self.calls]

    def reset(self) -> None:
        self.calls.clear()

    # --- the server -----------------------------------------------------------------------

    def _gettoken(self, query) -> dict:
        corp, secret = query.get("corpid", [""])[0], query.get("corpsecret", [""])[0]
        if self.secrets.get(corp) != secret:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        self.tokens_issued += 1
        token = f"token-{corp}-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}

    def _answer(self, path, query, body) -> dict:
        if path == "gettoken":
            return self._gettoken(query)
        token = query.get("access_token", [""])[0]
        if token not in self.valid_tokens:
            code = 42001 if token.startswith("token-") else 40014
            return {"errcode": code, "errmsg": "access_token expired or invalid"}
        if path not in METHODS:
            return {"errcode": 60011, "errmsg": "no privilege to access/modify contact"}
        required, optional = METHODS[path]
        if required - body.keys() or body.keys() - required - optional:
            return {"errcode": 40058, "errmsg": f"invalid fields {sorted(body)}"}
        if self.queued[path]:
            return self.queued[path].popleft()
        return self._default(path, body)

    def _default(self, path, body) -> dict:
        ok = {"errcode": 0, "errmsg": "ok"}
        if path == "externalcontact/groupchat/list":
            chats = [{"chat_id": c, "status": 0} for c in self.groups]
            return {**ok, "group_chat_list": chats, "next_cursor": ""}
        if path == "externalcontact/groupchat/get":
            group = self.groups.get(body["chat_id"])
            if group is None:
                return {"errcode": 701008, "errmsg": "not found"}
            return {**ok, "group_chat": json.loads(json.dumps(group))}
        if path == "externalcontact/group_welcome_template/add":
            self.templates += 1
            return {**ok, "template_id": f"msgTemplate{self.templates}"}
        if path == "externalcontact/add_msg_template":
            self.msgids += 1
            msgid = f"msgGroup{self.msgids}"
            self.send_status[msgid] = 0
            self.msg_chats[msgid] = body.get("chat_id_list", [])
            return {**ok, "fail_list": [], "msgid": msgid}
        if path == "externalcontact/get_groupmsg_send_result":
            msgid = body["msgid"]
            sends = [
                {"chat_id": chat, "userid": body["userid"], "status": self.send_status[msgid],
                 "send_time": 1700000500}
                for chat in self.msg_chats.get(msgid, [])
            ]  # fmt: skip
            return {**ok, "next_cursor": "", "send_list": sends}
        return ok

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self, body):
                url = urlsplit(self.path)
                path = url.path.removeprefix("/cgi-bin/")
                query = parse_qs(url.query)
                with api.lock:
                    api.calls.append((path, query, body))
                    found = api._answer(path, query, body)
                data = json.dumps(found, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._serve({})

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(json.loads(self.rfile.read(length) or b"{}"))

        return Handler


# --- the callback side, from the documented algorithm -------------------------------------------


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 - WeCom's scheme


def encrypt(message: str, receive_id: str = CORP_ID, aes_key: str = AES_KEY, pad=None) -> str:
    key = base64.b64decode(aes_key + "=")
    raw = message.encode()
    plain = os.urandom(16) + struct.pack(">I", len(raw)) + raw + receive_id.encode()
    if pad is None:
        padder = padding.PKCS7(256).padder()
        padded = padder.update(plain) + padder.finalize()
    else:  # a deliberately wrong padding byte
        fill = 32 - len(plain) % 32
        padded = plain + bytes([pad]) * fill
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def envelope(encrypted: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )


def chat_event(chat_id, change, detail="", join_scene=None, quit_scene=None, members=()) -> str:
    parts = [
        f"<ToUserName><![CDATA[{CORP_ID}]]></ToUserName>",
        "<FromUserName><![CDATA[sys]]></FromUserName>",
        "<CreateTime>1700000600</CreateTime>",
        "<MsgType><![CDATA[event]]></MsgType>",
        "<Event><![CDATA[change_external_chat]]></Event>",
        f"<ChatId><![CDATA[{chat_id}]]></ChatId>",
        f"<ChangeType><![CDATA[{change}]]></ChangeType>",
    ]
    if detail:
        parts.append(f"<UpdateDetail><![CDATA[{detail}]]></UpdateDetail>")
    if join_scene is not None:
        parts.append(f"<JoinScene>{join_scene}</JoinScene>")
    if quit_scene is not None:
        parts.append(f"<QuitScene>{quit_scene}</QuitScene>")
    if members:
        parts.append(f"<MemChangeCnt>{len(members)}</MemChangeCnt>")
        items = "".join(f"<Item><![CDATA[{m}]]></Item>" for m in members)
        parts.append(f"<MemChangeList>{items}</MemChangeList>")
    return "<xml>" + "".join(parts) + "</xml>"


def signed_query(encrypted: str, token: str = TOKEN, timestamp="1700000600", nonce="n0nce"):
    return {
        "msg_signature": sign(token, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
