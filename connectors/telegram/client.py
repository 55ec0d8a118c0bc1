"""python-telegram-bot, called from synchronous Django code.

The library is asyncio; the connector's work is a few calls between database writes, so each
`TelegramClient` owns a private event loop and runs one call at a time on it (no loop is ever
running while the ORM is used). The Bot API's address comes from settings
(`TELEGRAM_API_BASE_URL`), never from an organization: an operator may point it at a local
Bot API server, the tests point it at theirs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from django.conf import settings
from telegram import Bot, error
from telegram.request import HTTPXRequest

ALLOWED_UPDATES = ["message", "chat_member", "my_chat_member"]


class TelegramClient:
    def __init__(self, token: str):
        self.loop = asyncio.new_event_loop()
        timeout = settings.TELEGRAM_REQUEST_TIMEOUT
        self.bot = Bot(
            token,
            base_url=settings.TELEGRAM_API_BASE_URL,
            request=HTTPXRequest(connection_pool_size=4, read_timeout=timeout),
            get_updates_request=HTTPXRequest(read_timeout=settings.TELEGRAM_POLL_TIMEOUT + timeout),
        )

    def call(self, method: str, **kwargs):
        """`Bot.<method>(**kwargs)`; raises telegram.error.* as the library does."""
        return self.loop.run_until_complete(getattr(self.bot, method)(**kwargs))

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.bot.shutdown())
        finally:
            self.loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def retry_after_seconds(exc: error.RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def in_words(exc: Exception) -> str:
    """The platform's error as the status page shows it: Telegram's own description."""
    if isinstance(exc, error.TelegramError):
        return f"Telegram: {exc.message}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]
