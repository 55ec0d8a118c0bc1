"""How much does checking an API key cost? Prints figures; asserts nothing.

Compares, in the same run, the keyed-hash check against a bare SHA-256 of the same input (the
raw baseline) and against Django's default password hasher (what we deliberately do not use).
No queries: any database will do.
Run: `uv run python bench/api_key_auth.py [--quick] [--json-out bench/results/api_key_auth.json]`
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/api_key_auth.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import hashlib
import os
import timeit

from bench.lib import app, env, results


def per_call(fn, number, repeat=5):
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke test)")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    env.configure(postgres=False)
    os.environ["TESTING"] = "0"  # Django's default password hasher, not the test suite's
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password, make_password

    number, repeat = (200, 1) if args.quick else (20000, 5)
    _prefix, raw = app.new_api_key()
    stored = app.keyed_hash(raw)
    baseline = per_call(lambda: hashlib.sha256(raw.encode()).hexdigest(), number, repeat)
    keyed = per_call(lambda: app.api_key_matches(raw, stored), number, repeat)
    hashed_password = make_password(raw)
    password = per_call(
        lambda: check_password(raw, hashed_password), 1 if args.quick else 3, repeat
    )
    print(f"raw sha256 baseline      {baseline * 1e6:9.2f} µs")
    print(f"API key check (HMAC)     {keyed * 1e6:9.2f} µs   ({keyed / baseline:.1f}× baseline)")
    print(
        f"password hasher check    {password * 1e6:9.0f} µs   ({password / keyed:.0f}× the key check)"
    )
    results.write_json(
        args.json_out,
        {
            "sha256_us": round(baseline * 1e6, 3),
            "hmac_us": round(keyed * 1e6, 3),
            "password_us": round(password * 1e6, 1),
            "ratio_hmac_over_sha256": round(keyed / baseline, 2),
            "ratio_password_over_hmac": round(password / keyed, 1),
            "key_check_accepts": bool(app.api_key_matches(raw, stored)),
            "key_check_refuses_another": not app.api_key_matches(raw + "x", stored),
        },
    )


if __name__ == "__main__":
    main()
