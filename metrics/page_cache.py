"""Figures the metric pages and the home read from the rollups, cached per organization.

What is cached depends only on the rollups, the groups asked for and the window: never on who
asks. A key names the groups (a deputy's three, or all of them) and the window, so one
viewer's figures are never served to a viewer of other groups; what a viewer may see is
decided before the cache is asked (the group ids), and names, links and permissions are read
fresh on every request.

Every entry of an organization carries its rollup generation in its key. Writing rollups (the
refresh, the rebuild, the nightly settling: all end in `leaderboards.keep_ready`) calls
`forget`, which starts a new generation; the old entries are never read again and expire. A
generation lost with the cache is replaced by a fresh random one, so an old entry can never
come back. A cache that is down is a miss, never an error (core/cache.py).
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.cache import cache
from django.db import transaction

TIMEOUT = 15 * 60  # a backstop: every rollup write forgets the entries anyway


def _generation_key(org_id) -> str:
    return f"metrics:pages:gen:{org_id}"


def generation(org_id) -> str:
    key = _generation_key(org_id)
    found = cache.get(key)
    if found is None:
        found = uuid.uuid4().hex
        if not cache.add(key, found, timeout=None):  # another process started one first
            found = cache.get(key) or found
    return found


def forget(org_id) -> None:
    """The organization's rollups changed: start a new generation now and again when the
    transaction commits (a reader elsewhere may cache the old rows meanwhile)."""
    key = _generation_key(org_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def scope(community_ids) -> str:
    """A short stable name of a set of groups."""
    joined = ",".join(str(pk) for pk in sorted(community_ids))
    return hashlib.blake2b(joined.encode(), digest_size=12).hexdigest()


def cached(org_id, name: str, parts: tuple, compute):
    """`compute()` once per generation for these parts (groups, window, …)."""
    key = f"metrics:pages:{org_id}:{generation(org_id)}:{name}:" + ":".join(map(str, parts))
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, TIMEOUT)
    return found
