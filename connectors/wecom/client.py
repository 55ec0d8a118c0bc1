"""The WeCom server API (https://qyapi.weixin.qq.com/cgi-bin/…) over httpx.

Every call carries an access_token fetched with `gettoken` (corp id + the app's secret) and
kept in the cache until shortly before it expires; WeCom's "token expired" (42001) and
"invalid token" (40014) fetch a new one and repeat the call once. The address comes from
settings (`WECOM_API_BASE_URL`), never from an organization: the tests point it at theirs.
"""

from __future__ import annotations

import time

import httpx
from django.conf import settings
from django.core.cache import cache

TOKEN_REFRESH = {42001, 40014}  # access_token expired / invalid
TOKEN_REFUSED = {40001, 40013, 40091, 40056, 48002}  # wrong secret or corp id, not allowed
EARLY_SECONDS = 300  # fetch a new token this long before WeCom's expiry


class WeComError(Exception):
    """WeCom answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"{errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class Unreachable(Exception):
    """The network or WeCom's server failed (no answer in WeCom's format)."""


class WeComClient:
    def __init__(self, *, corp_id: str, secret: str, cache_key: str):
        self.corp_id, self.secret, self.cache_key = corp_id, secret, cache_key
        self.http = httpx.Client(
            base_url=settings.WECOM_API_BASE_URL.rstrip("/") + "/",
            timeout=settings.WECOM_REQUEST_TIMEOUT,
        )

    def token(self, *, fresh=False) -> str:
        cached = None if fresh else cache.get(self.cache_key)
        if cached and cached.get("expires_at", 0) > time.time():
            return cached["token"]
        try:
            response = self.http.get(
                "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
            )
        except httpx.HTTPError as exc:
            raise Unreachable(type(exc).__name__) from None
        found = self._answer(response)
        expires_in = int(found.get("expires_in") or 7200)
        lifetime = max(expires_in - EARLY_SECONDS, expires_in // 2)
        cache.set(
            self.cache_key,
            {"token": found["access_token"], "expires_at": time.time() + lifetime},
            timeout=lifetime,
        )
        return found["access_token"]

    def call(self, path: str, body: dict | None = None) -> dict:
        """POST `body` (JSON) to `path`, or GET without one; the answer's fields."""
        try:
            return self._call(path, body, self.token())
        except WeComError as exc:
            if exc.errcode not in TOKEN_REFRESH:
                raise
            cache.delete(self.cache_key)
            return self._call(path, body, self.token(fresh=True))

    def _call(self, path, body, token) -> dict:
        params = {"access_token": token}
        try:
            if body is None:
                response = self.http.get(path, params=params)
            else:
                response = self.http.post(path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise Unreachable(type(exc).__name__) from None
        return self._answer(response)

    def _answer(self, response) -> dict:
        if isinstance(response, httpx.Response) and response.status_code >= 500:
            raise Unreachable(f"HTTP {response.status_code}")
        try:
            found = response.json()
        except ValueError:
            raise Unreachable(f"HTTP {response.status_code}") from None
        if not isinstance(found, dict):
            raise Unreachable("not an object")
        if found.get("errcode", 0):
            raise WeComError(int(found["errcode"]), str(found.get("errmsg", "")))
        return found

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def in_words(exc: Exception) -> str:
    """The platform's error as the status page shows it: WeCom's own code and message."""
    if isinstance(exc, WeComError):
        return f"WeCom: {exc.errcode} {exc.errmsg}"[:500]
    return f"WeCom: {exc}"[:500]
