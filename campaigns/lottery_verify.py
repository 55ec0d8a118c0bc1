#!/usr/bin/env python3
"""Recompute a Qunyun lottery's winners from its published values. Standard library only.

    python3 lottery_verify.py --seed <revealed seed hex> --commitment <sha256 hex> \
        --public-value <value> --entries-hash <sha256 hex> --entrants 12,15,31,... \
        --prizes "一等奖:1,二等奖:2,参与奖:20"

It checks that SHA-256(seed) is the commitment published when the lottery opened, that the
entrant list hashes to the value published when entries closed, then prints the winners.
Qunyun draws with these same functions (`campaigns/lottery.py` imports this module), so the
file can be copied out and run anywhere with Python 3.

Why the organizer cannot steer the draw. Qunyun (and so the organizer) knows the seed from the
moment the lottery opens. With the seed alone, anyone holding it could compute the winners for
any entrant list while entries are open, and add or drop entrants (their own accounts) until
the result suited them. So the draw also depends on a public value that the lottery NAMED when
it opened (for example "体彩大乐透 第 26140 期 开奖号码") and that is published only after entries
close. While the entrant list can still change, nobody knows that value; once it is published,
the entrant list is frozen (its hash was published at the close) and the seed is fixed by its
commitment. Check the public value yourself against the official publication named on the
verification page: the script cannot know it, and everything else follows from it.

The draw rule (`--rule`): 2, for lotteries opened with a named public value, mixes the seed, the
entrant list hash and the public value; 1 is the rule of lotteries drawn before that (the seed
and the public value only). The verification page says which rule a lottery used.
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


RULES = {
    1: "HMAC-SHA256(seed, '<public value>:<counter>')",
    2: "HMAC-SHA256(seed, '<entrant list hash>:<public value>:<counter>')",
}
CURRENT_RULE = 2


def _random_below(seed: bytes, mixed: str, counter: int, bound: int) -> tuple[int, int]:
    """An unbiased integer in [0, bound) from HMAC-SHA256(seed, "<mixed>:<counter>"), with
    rejection sampling. Returns (value, next counter)."""
    limit = (2**256 // bound) * bound
    while True:
        digest = hmac.new(seed, f"{mixed}:{counter}".encode(), hashlib.sha256).digest()
        counter += 1
        number = int.from_bytes(digest, "big")
        if number < limit:
            return number % bound, counter


def shuffled(
    seed_hex: str, public_value: str, entrant_ids: list[int], rule: int = CURRENT_RULE
) -> list[int]:
    """Fisher–Yates over the sorted entrants, driven by the seed, the public value and (rule 2)
    the entrant list hash."""
    if rule not in RULES:
        raise ValueError(f"unknown draw rule {rule}")
    order = sorted(entrant_ids)
    mixed = public_value if rule == 1 else f"{entries_hash(order)}:{public_value}"
    seed, counter = bytes.fromhex(seed_hex), 0
    for i in range(len(order) - 1, 0, -1):
        j, counter = _random_below(seed, mixed, counter, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def winners(
    seed_hex: str,
    public_value: str,
    entrant_ids: list[int],
    prizes: list[tuple[str, int]],
    per_member: int = 1,
    rule: int = CURRENT_RULE,
):
    """[(entrant id, prize name, position)]: prizes in the given order (top prize first) go to
    the shuffled entrants in turn; with `per_member` > 1 the turn comes round again, so nobody
    gets more than `per_member` prizes. Stops when prizes or turns run out."""
    order = shuffled(seed_hex, public_value, entrant_ids, rule)
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
    parser.add_argument(
        "--public-value",
        default="",
        help="the value the lottery named when it opened, as officially published",
    )
    parser.add_argument("--entries-hash", required=True)
    parser.add_argument("--entrants", required=True, help="comma-separated entrant ids")
    parser.add_argument("--prizes", required=True, help='"name:quantity,…", top prize first')
    parser.add_argument("--per-member", type=int, default=1, help="prizes one member may win")
    parser.add_argument(
        "--rule",
        type=int,
        choices=sorted(RULES),
        default=CURRENT_RULE,
        help="the draw rule the verification page shows (default %(default)s)",
    )
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
    if args.rule >= 2 and not args.public_value.strip():
        print("MISSING: the public value decides the draw; give the one officially published")
        return 1
    print(f"rule {args.rule}: {RULES[args.rule]}")
    print(
        f"public value {args.public_value!r}: check it against the official publication the "
        "lottery named when it opened"
    )
    drawn = winners(args.seed, args.public_value, entrants, prizes, args.per_member, args.rule)
    for entrant, prize, position in drawn:
        print(f"{position + 1:>4}. entrant {entrant}: {prize}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
