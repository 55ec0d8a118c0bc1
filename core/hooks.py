"""How a lower app learns of a higher one's needs without importing it: the lower app owns a
`Hook` and calls it at a defined point; higher apps register their functions at start-up
(`AppConfig.ready`). Receivers run in registration order, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable


class Hook:
    def __init__(self, name: str):
        self.name = name
        self._receivers: list[Callable] = []

    def register(self, receiver: Callable) -> Callable:
        if receiver not in self._receivers:  # ready() may run twice in tests
            self._receivers.append(receiver)
        return receiver

    def __call__(self, **kwargs) -> list:
        return [receiver(**kwargs) for receiver in self._receivers]

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receivers>"
