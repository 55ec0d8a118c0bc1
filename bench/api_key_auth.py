"""How much does checking an API key cost? Prints figures; asserts nothing.

Compares, in the same run, the keyed-hash check against a bare SHA-256 of the same input (the
raw baseline) and against Django's default password hasher (what we deliberately do not use).
Run: `uv run python bench/api_key_auth.py [--json-out bench/results/api_key_auth.json]`
"""

import argparse
import hashlib
import json
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import (
    check_password,  # noqa: E402
    make_password,  # noqa: E402
)

from tenancy import tokens  # noqa: E402


def per_call(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    _prefix, raw = tokens.new_api_key()
    stored = tokens.keyed_hash(raw)
    baseline = per_call(lambda: hashlib.sha256(raw.encode()).hexdigest(), 20000)
    keyed = per_call(lambda: tokens.matches(raw, stored), 20000)
    hashed_password = make_password(raw)
    password = per_call(lambda: check_password(raw, hashed_password), 3)
    print(f"raw sha256 baseline      {baseline * 1e6:9.2f} µs")
    print(f"API key check (HMAC)     {keyed * 1e6:9.2f} µs   ({keyed / baseline:.1f}× baseline)")
    print(
        f"password hasher check    {password * 1e6:9.0f} µs   ({password / keyed:.0f}× the key check)"
    )
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "sha256_us": round(baseline * 1e6, 3),
            "hmac_us": round(keyed * 1e6, 3),
            "password_us": round(password * 1e6, 1),
            "ratio_hmac_over_sha256": round(keyed / baseline, 2),
            "ratio_password_over_hmac": round(password / keyed, 1),
        }
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
