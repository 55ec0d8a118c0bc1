"""The flash-sale stock gate: Redis in front of PostgreSQL when a sale goes live.

PostgreSQL stays the truth: an order is placed only by the conditional UPDATE of `stock_left`
and with the member's row locked for the cap (`services.flash_sale_order`). The gate answers
the crowd before it reaches the database: for each live sale one Redis hash,

    qunyun:stock:<organization id>:<campaign id>
        stock           units the gate still lets through
        m:<member id>   units the member holds (pending payment or paid)
        k:<key>         Idempotency-Keys that went through (their retries go to the database)
        members         set once every member's holding was loaded: a member missing holds 0

changed only by the one Lua script below, so each decision is atomic: the gate takes the units
and counts them against the member's cap in one step, or answers `sold_out` / `cap_exceeded`
without a database query. Only the units it let through reach PostgreSQL, which may still
refuse (the gate lags the database by the orders in flight); then the units go back to the gate
and, when the database said sold out, the gate takes the database's count.

Loading. A hash that is missing is read from PostgreSQL (the stock, the Idempotency-Keys and
every member's holding, so a member's first press makes no query) and written with "set if not
there" (HSETNX inside the script), so concurrent loaders agree: the first one wins, the others'
writes are no-ops; a member's field missing from a hash without `members` is read on its own. That covers the first order of a sale, a Redis that was flushed
or restarted, and an evicted key. The hash expires an hour after the sale ends.

Giving back. A refund, a cancellation or an expiry returns units to the sale in PostgreSQL and,
once that commits (`transaction.on_commit`), to the gate: `released`. A give-back never creates
a hash: a missing one is loaded from the database, which already counts the units.

Failure. No URL, Redis unreachable or answering an error: `take` returns None and the order
takes the database path as it did before the gate (no oversell, no 500); the outage is logged
once and Redis is left alone for a few seconds (core/redis_link.py). Sales ordered through the
database path while Redis was unreachable are reloaded when it answers again.

Drift. A gate that says fewer units than the database has (a worker killed between the gate and
the database, a give-back lost to a Redis error) would leave units unsold; `reconcile`, run every
minute with the expiry job, reloads a sale whose gate is at 0 while PostgreSQL has units left.
A gate that says more only lets more requests reach the database, which refuses them.

The gate decides only in autocommit (the order's transaction is the outermost one): a take
inside a caller's transaction could outlive that transaction's rollback, so there the order
takes the database path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from redis.exceptions import RedisError

from core.local_memo import MISSING, LocalMemo
from core.redis_link import RedisLink

from .models import HOLDING, Campaign, CampaignKind, CampaignStatus, Order

log = logging.getLogger(__name__)

PREFIX = "qunyun:stock"
KEEP_AFTER_END = timedelta(hours=1)
LOAD_CHUNK = 500  # Idempotency-Keys written per script call when a gate is loaded
REDIS_ERRORS = (RedisError, OSError)  # unreachable, timed out, readonly, a script error …

# KEYS[1] a sale's hash; ARGV[1] the operation. Every write to a gate is one call of this
# script, so every decision and every give-back is atomic.
_SCRIPT = """
local h, op = KEYS[1], ARGV[1]
local function keep(at)
  if redis.call('TTL', h) < 0 then redis.call('EXPIREAT', h, at) end
end
if op == 'take' then
  -- qty, cap, member field, key field, member's holding from the database ('' unknown), expire at
  local qty, cap, m, k = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
  local stock = redis.call('HGET', h, 'stock')
  if not stock then return {'load', -1} end
  stock = tonumber(stock)
  if redis.call('HEXISTS', h, k) == 1 then return {'seen', stock} end
  if ARGV[6] ~= '' then redis.call('HSETNX', h, m, ARGV[6]) end
  local held = redis.call('HGET', h, m)
  -- loaded with every member's holding: a member not in the hash holds nothing
  if not held and redis.call('HEXISTS', h, 'members') == 1 then held = '0' end
  if held and tonumber(held) + qty > cap then return {'cap_exceeded', stock} end
  if stock < qty then return {'sold_out', stock} end
  if not held then return {'member', stock} end
  redis.call('HINCRBY', h, m, qty)
  redis.call('HSET', h, k, 1)
  return {'ok', redis.call('HINCRBY', h, 'stock', -qty)}
elseif op == 'keys' then
  -- expire at, key fields of orders already placed
  for i = 3, #ARGV do redis.call('HSET', h, ARGV[i], 1) end
  keep(ARGV[2])
  return {'ok', 0}
elseif op == 'holdings' then
  -- expire at, then pairs of member field and units held (a live count is kept)
  for i = 3, #ARGV, 2 do redis.call('HSETNX', h, ARGV[i], ARGV[i + 1]) end
  keep(ARGV[2])
  return {'ok', 0}
elseif op == 'load' then
  -- stock from the database, expire at; the holdings were written just before
  redis.call('HSETNX', h, 'stock', ARGV[2])
  redis.call('HSET', h, 'members', 1)
  keep(ARGV[3])
  return {'ok', tonumber(redis.call('HGET', h, 'stock'))}
elseif op == 'give' then
  -- qty, member field, key field to forget ('' none), units in all, and what the database
  -- said when it refused: its stock ('' not that) and the member's holding ('' not that)
  if redis.call('HEXISTS', h, 'stock') == 0 then return {'load', -1} end
  local qty = tonumber(ARGV[2])
  if ARGV[6] ~= '' then
    redis.call('HSET', h, 'stock', ARGV[6])
  elseif redis.call('HINCRBY', h, 'stock', qty) > tonumber(ARGV[5]) then
    redis.call('HSET', h, 'stock', ARGV[5])
  end
  local held = redis.call('HGET', h, ARGV[3])
  if ARGV[7] ~= '' then
    redis.call('HSET', h, ARGV[3], ARGV[7])
  elseif held then
    local n = tonumber(held) - qty
    if n < 0 then n = 0 end
    redis.call('HSET', h, ARGV[3], n)
  end
  if ARGV[4] ~= '' then redis.call('HDEL', h, ARGV[4]) end
  return {'ok', tonumber(redis.call('HGET', h, 'stock'))}
end
return redis.error_reply('unknown operation ' .. op)
"""

_link = RedisLink(
    "STOCK_GATE_REDIS_URL",
    scripts={"gate": _SCRIPT},
    log=log,
    what="Stock gate",
    fallback="orders take the database path",
)
# Sales that took orders through the database path while Redis was unreachable: their gates
# missed those orders, so the first call that reaches Redis again drops them (they reload).
_stale: set[str] = set()


@dataclass(frozen=True)
class Ticket:
    """Units the gate let through for one order attempt; `give_back` if no order is placed."""

    hash_key: str
    member_field: str
    key_field: str
    quantity: int
    total: int


def hash_key(organization_id: int, campaign_id: int) -> str:
    return f"{PREFIX}:{organization_id}:{campaign_id}"


def _key_of(campaign) -> str:
    return hash_key(campaign.organization_id, campaign.pk)


def _expire_at(campaign) -> int:
    return int((max(campaign.ends_at, timezone.now()) + KEEP_AFTER_END).timestamp())


def _client():
    """A Redis client, or None: no gate configured, Redis just failed, or the caller is inside
    a transaction (see the module's docstring)."""
    if transaction.get_connection().in_atomic_block:
        return None
    client = _link.client()
    if client is not None and _stale:
        stale = list(_stale)
        try:
            client.delete(*stale)
        except REDIS_ERRORS as exc:
            _link.failed(exc)
            return None
        _stale.difference_update(stale)
        for key in stale:
            _POLLED.forget(key)
    return client


def _run(client, key: str, *args):
    _POLLED.forget(key)
    op, value = _link.script(client, "gate")(keys=[key], args=list(args))
    return (op.decode() if isinstance(op, bytes) else op), int(value)


# --- ordering --------------------------------------------------------------------------------


def take(campaign, member, quantity: int, idempotency_key: str) -> Ticket | str | None:
    """Ask the gate for `quantity` units of a live flash sale for `member`.

    Returns a Ticket (the units are taken: place the order, or `give_back`), "sold_out" or
    "cap_exceeded" (answer so, no database query was made), or None: go to the database as if
    there were no gate (no gate, Redis failing, or a retry of a key that went through)."""
    client = _client()
    if client is None:
        return None
    key = _key_of(campaign)
    member_field, key_field = f"m:{member.pk}", f"k:{idempotency_key}"
    holding = ""
    try:
        for _round in range(3):
            op, _left = _run(
                client,
                key,
                "take",
                quantity,
                campaign.per_member_cap,
                member_field,
                key_field,
                holding,
                _expire_at(campaign),
            )
            if op == "ok":
                _link.ok()
                return Ticket(key, member_field, key_field, quantity, campaign.stock_total)
            if op in ("sold_out", "cap_exceeded"):
                _link.ok()
                return op
            if op == "seen":
                _link.ok()
                return None
            if op == "load":
                _load(client, campaign)
            elif op == "member":
                holding = str(_holding(campaign, member))
    except REDIS_ERRORS as exc:  # connection, timeout, a script error: fail open
        _link.failed(exc)
        _stale.add(key)
    return None


def give_back(
    ticket: Ticket,
    *,
    stock_left: int | None = None,
    holding: int | None = None,
    keep_key: bool = False,
) -> None:
    """The order was not placed (or was placed before: `keep_key`): return the ticket's units.
    When the database refused for stock (`stock_left`) or for the cap (the member's `holding`),
    the gate takes the database's count instead."""
    _give(
        ticket.hash_key,
        ticket.quantity,
        ticket.member_field,
        "" if keep_key else ticket.key_field,
        ticket.total,
        "" if stock_left is None else str(stock_left),
        "" if holding is None else str(holding),
    )


def released(orders: Iterable[Order]) -> None:
    """Units of these orders went back to their sales in PostgreSQL (refund, cancellation,
    expiry): give them back to the gates. Call it through `transaction.on_commit`."""
    for order in orders:
        campaign = order.campaign
        _give(
            _key_of(campaign),
            order.quantity,
            f"m:{order.member_id}",
            "",
            campaign.stock_total,
            "",
            "",
        )


def _give(key, quantity, member_field, key_field, total, stock: str, holding: str) -> None:
    if not _link.url():
        return
    client = _client()
    if client is None:
        _stale.add(key)  # the gate missed this change: reload it once Redis answers
        return
    try:
        _run(client, key, "give", quantity, member_field, key_field, total, stock, holding)
    except REDIS_ERRORS as exc:
        _link.failed(exc)
        _stale.add(key)
    else:
        _link.ok()


def _load(client, campaign) -> None:
    """Write the sale's stock and the Idempotency-Keys of its orders from PostgreSQL; a gate
    another process loaded meanwhile keeps its count (HSETNX)."""
    org = campaign.organization_id
    left = (
        Campaign.objects.for_org(org)
        .filter(pk=campaign.pk)
        .values_list("stock_left", flat=True)
        .first()
    )
    if left is None:
        raise LookupError(f"campaign {campaign.pk} is gone")
    keys = [
        f"k:{k}"
        for k in Order.objects.for_org(org)
        .filter(campaign_id=campaign.pk)
        .exclude(idempotency_key="")
        .values_list("idempotency_key", flat=True)
    ]
    holdings = [
        value
        for row in Order.objects.for_org(org)
        .filter(campaign_id=campaign.pk, status__in=HOLDING)
        .values("member_id")
        .annotate(units=Sum("quantity"))
        .order_by()
        for value in (f"m:{row['member_id']}", row["units"])
    ]
    key, expire_at = _key_of(campaign), _expire_at(campaign)
    _POLLED.forget(key)
    script = _link.script(client, "gate")
    pipe = client.pipeline(transaction=False)
    # keys and holdings first: whoever sees the stock sees them
    for i in range(0, len(keys), LOAD_CHUNK):
        script(keys=[key], args=["keys", expire_at, *keys[i : i + LOAD_CHUNK]], client=pipe)
    for i in range(0, len(holdings), 2 * LOAD_CHUNK):
        chunk = holdings[i : i + 2 * LOAD_CHUNK]
        script(keys=[key], args=["holdings", expire_at, *chunk], client=pipe)
    script(keys=[key], args=["load", left, expire_at], client=pipe)
    pipe.execute()


def _holding(campaign, member) -> int:
    return (
        Order.objects.for_org(campaign.organization_id)
        .filter(campaign_id=campaign.pk, member_id=member.pk, status__in=HOLDING)
        .aggregate(n=Sum("quantity"))["n"]
        or 0
    )


# --- reading ---------------------------------------------------------------------------------


def live_stock(campaigns, organization=None):
    """Units left as the gate sees them, for pages that poll: Redis only, no database query.

    `campaigns`: a Campaign or a campaign id (→ int or None), or an iterable of them
    (→ {campaign id: int or None}); ids need `organization` (an Organization or its id). None
    means "not known here" (no gate, Redis down, or the gate not loaded yet: `load` it, or
    read `stock_left`)."""
    single = isinstance(campaigns, (Campaign, int))
    items = [campaigns] if single else list(campaigns)
    org_id = getattr(organization, "pk", organization)
    keys = {}
    for item in items:
        if isinstance(item, Campaign):
            keys[item.pk] = _key_of(item)
        else:
            if org_id is None:
                raise ValueError("campaign ids need the organization")
            keys[int(item)] = hash_key(org_id, int(item))
    found = dict.fromkeys(keys)
    client = _link.client()
    if client is not None and keys:
        try:
            if len(keys) == 1:  # the polled page: one round trip without a pipeline's cost
                values = [client.hget(next(iter(keys.values())), "stock")]
            else:
                pipe = client.pipeline(transaction=False)
                for key in keys.values():
                    pipe.hget(key, "stock")
                values = pipe.execute()
        except REDIS_ERRORS as exc:
            _link.failed(exc)
        else:
            _link.ok()
            for campaign_id, value in zip(keys, values, strict=True):
                found[campaign_id] = max(0, int(value)) if value is not None else None
    return found[next(iter(found))] if single else found


# The count a polled stock bar shows, kept for a second in each process: a thousand phones
# polling every 3 s ask each process for the same figure hundreds of times a second, and a bar
# a second behind is harmless (a buy asks the gate itself). This process's own changes to the
# gate forget it at once.
_POLLED = LocalMemo(seconds=1)


def polled_stock(campaign_id: int, organization) -> int | None:
    """`live_stock` of one sale for a page that polls, at most a second old."""
    key = hash_key(getattr(organization, "pk", organization), int(campaign_id))
    left = _POLLED.get(key)
    if left is MISSING:
        left = live_stock(campaign_id, organization=organization)
        if left is not None:
            _POLLED.set(key, left)
    return left


def load(campaign) -> int | None:
    """Load a flash sale's gate now (before the sale opens, or for a page whose poll found it
    missing) and return its count; None without a gate."""
    if campaign.kind != CampaignKind.FLASH_SALE:
        return None
    client = _client()
    if client is None:
        return None
    try:
        _load(client, campaign)
    except REDIS_ERRORS as exc:
        _link.failed(exc)
        return None
    _link.ok()
    return live_stock(campaign)


def forget(campaign) -> None:
    """Drop a sale's gate (a cancelled sale, or one to reload from PostgreSQL)."""
    client = _link.client()
    if client is None:
        return
    _POLLED.forget(_key_of(campaign))
    try:
        client.delete(_key_of(campaign))
    except REDIS_ERRORS as exc:
        _link.failed(exc)


def reconcile(org, now=None) -> int:
    """Reload the gates of live flash sales that say sold out while PostgreSQL has units left
    (units stranded by a lost give-back or a worker killed mid-order). Returns how many."""
    now = now or timezone.now()
    live = list(
        Campaign.objects.for_org(org).filter(
            kind=CampaignKind.FLASH_SALE,
            status=CampaignStatus.SCHEDULED,
            starts_at__lte=now,
            ends_at__gt=now,
            stock_left__gt=0,
        )
    )
    if not live:
        return 0
    gates = live_stock(live)
    stranded = [c for c in live if gates[c.pk] == 0]
    for campaign in stranded:
        forget(campaign)
        log.warning(
            "Stock gate of campaign %s said 0 while the database has %s left: reloading it.",
            campaign.pk,
            campaign.stock_left,
        )
    return len(stranded)


def available() -> bool:
    return _link.available()


def reset_for_tests() -> None:
    _link.reset()
    _stale.clear()
