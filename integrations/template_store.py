"""The organization's own wording of messages, as the composer reads it: every active template of
one organization in one cached map, so composing a batch of messages costs no query per
message. Saving or retiring a template forgets the map when its transaction commits
(integrations.message_templates); a cache that is down is a miss, never an error."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from .models import MessageTemplate

# Short: a reader that loaded the rows just before a save commits may put the old map back;
# it lasts this long at most.
CACHE_SECONDS = 120


def _cache_key(org_id) -> str:
    return f"message-templates:{org_id}"


def active_texts(org) -> dict:
    """{(key, language, community id or None): text} of the organization's active templates."""
    found = cache.get(_cache_key(org.pk))
    if found is None:
        rows = (
            MessageTemplate.objects.for_org(org)
            .filter(is_active=True)
            .values_list("key", "language", "community_id", "text")
        )
        found = {(key, language, community): text for key, language, community, text in rows}
        cache.set(_cache_key(org.pk), found, CACHE_SECONDS)
    return found


def active_text(org, key: str, language: str, community_id=None) -> str | None:
    """The group's template for `key` in `language`, else the organization's, else None."""
    texts = active_texts(org)
    if community_id is not None and (key, language, community_id) in texts:
        return texts[(key, language, community_id)]
    return texts.get((key, language, None))


def forget(org) -> None:
    """Drop the cached map now (later reads in this transaction see the change) and again
    when the transaction commits (a reader elsewhere may have cached the old rows meanwhile)."""
    key = _cache_key(org.pk)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
