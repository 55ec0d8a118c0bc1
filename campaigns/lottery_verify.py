#!/usr/bin/env python3
"""Recompute a Qunyun lottery's winners from its published values. Standard library only.

    python3 lottery_verify.py --seed <revealed seed hex> --commitment <sha256 hex> \
        --public-value <value> --entries-hash <sha256 hex> --entrants 12,15,31,... \
        --prizes "一等奖:1,二等奖:2,参与奖:20"

It checks that SHA-256(seed) is the commitment published when the lottery opened, that the
entrant list hashes to the value published when entries closed, then prints the winners.
Qunyun draws with these same functions (`campaigns/lottery.py` imports this module), so the
file can be copied out and run anywhere with Python 3.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sys


def commitment_of(seed_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def entries_hash(entrant_ids: list[int]) -> str:
    """SHA-256 of the sorted entrant ids, one per line."""
    return hashlib.sha256("\n".join(str(i) for i in sorted(entrant_ids)).encode()).hexdigest()


def _random_below(seed: bytes, public_value: str, counter: int, bound: int) -> tuple[int, int]:
    """An unbiased integer in [0, bound) from HMAC-SHA256(seed, "<public value>:<counter>"),
    with rejection sampling. Returns (value, next counter)."""
    limit = (2**256 // bound) * bound
    while True:
        digest = hmac.new(seed, f"{public_value}:{counter}".encode(), hashlib.sha256).digest()
        counter += 1
        number = int.from_bytes(digest, "big")
        if number < limit:
            return number % bound, counter


def shuffled(seed_hex: str, public_value: str, entrant_ids: list[int]) -> list[int]:
    """Fisher–Yates over the sorted entrants, driven by the seed and the public value."""
    order = sorted(entrant_ids)
    seed, counter = bytes.fromhex(seed_hex), 0
    for i in range(len(order) - 1, 0, -1):
        j, counter = _random_below(seed, public_value, counter, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def winners(
    seed_hex: str,
    public_value: str,
    entrant_ids: list[int],
    prizes: list[tuple[str, int]],
    per_member: int = 1,
):
    """[(entrant id, prize name, position)]: prizes in the given order (top prize first) go to
    the shuffled entrants in turn; with `per_member` > 1 the turn comes round again, so nobody
    gets more than `per_member` prizes. Stops when prizes or turns run out."""
    order = shuffled(seed_hex, public_value, entrant_ids)
    turns = len(order) * max(1, per_member)
    result, position = [], 0
    for name, quantity in prizes:
        for _ in range(quantity):
            if position >= turns:
                return result
            result.append((order[position % len(order)], name, position))
            position += 1
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", required=True)
    parser.add_argument("--commitment", required=True)
    parser.add_argument("--public-value", default="")
    parser.add_argument("--entries-hash", required=True)
    parser.add_argument("--entrants", required=True, help="comma-separated entrant ids")
    parser.add_argument("--prizes", required=True, help='"name:quantity,…", top prize first')
    parser.add_argument("--per-member", type=int, default=1, help="prizes one member may win")
    args = parser.parse_args(argv)
    entrants = [int(x) for x in args.entrants.split(",") if x.strip()]
    prizes = [
        (name, int(q))
        for name, q in (p.rsplit(":", 1) for p in args.prizes.split(",") if p.strip())
    ]
    ok = True
    if commitment_of(args.seed) != args.commitment:
        print("MISMATCH: SHA-256(seed) is not the published commitment")
        ok = False
    if entries_hash(entrants) != args.entries_hash:
        print("MISMATCH: the entrant list does not hash to the published value")
        ok = False
    drawn = winners(args.seed, args.public_value, entrants, prizes, args.per_member)
    for entrant, prize, position in drawn:
        print(f"{position + 1:>4}. entrant {entrant}: {prize}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
