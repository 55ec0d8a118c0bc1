"""The scales and what `make bench` runs at each: every benchmark's arguments per scale.

`tiny` is a smoke test of the whole suite (tests/bench/test_tiny_run.py runs it in `make test`:
every benchmark completes and its correctness checks hold; its figures mean nothing).
`small` takes under 15 minutes on 2 cores; `default` is the issues' numbers (the scripts' own
defaults).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    communities: int
    members: int
    events: int
    orders: int
    dormant_memberships: int  # for bench/dormant_scan.py


SCALES = {
    "tiny": Scale("tiny", 5, 1_000, 20_000, 2_000, 5_000),
    "small": Scale("small", 20, 10_000, 500_000, 20_000, 100_000),
    "default": Scale("default", 200, 100_000, 10_000_000, 200_000, 1_000_000),  # issue #9
}

# name -> arguments per scale, in the order make bench runs them
PLAN: dict[str, dict[str, list[str]]] = {
    "synthetic": {
        "tiny": ["--scale", "tiny"],
        "small": ["--scale", "small"],
        "default": ["--scale", "default"],
    },
    "dashboard_load": {
        "tiny": [
            *("--scale", "tiny", "--users", "4", "--workers", "1"),
            *("--duration", "3", "--baseline-duration", "2", "--alone", "1"),
        ],
        "small": ["--scale", "small", "--duration", "60"],
        "default": ["--scale", "default", "--duration", "120"],
    },
    "api_key_auth": {"tiny": ["--quick"], "small": [], "default": []},
    "ingest_events": {
        "tiny": ["--events", "1000", "--batch", "250", "--workers", "1"],
        "small": ["--quick"],
        "default": [],
    },
    "flash_sale": {
        "tiny": ["--clients", "10", "--stock", "20", "--orders-per-client", "3"],
        "small": [],
        "default": [],
    },
    "member_pages": {  # 1,000 member sessions, 100 units, 30 s of polling (issue 20)
        "tiny": [
            *("--members", "20", "--units", "5", "--workers", "1"),
            *("--poll-duration", "5"),
        ],
        "small": ["--poll-duration", "20"],
        "default": [],
    },
    "dispatch_posts": {
        "tiny": ["--posts", "300"],
        "small": ["--posts", "2000"],
        "default": [],
    },
    "metrics": {
        "tiny": [
            *("--members", "1000", "--events", "20000", "--orders", "2000", "--late", "5000"),
            *("--requests", "5", "--raw-runs", "1", "--no-profile", "--workers", "1"),
        ],
        "small": [
            *("--members", "10000", "--events", "500000", "--orders", "20000"),
            *("--late", "50000"),
        ],
        "default": [],  # 100,000 members, 10,000,000 messages, 100,000 orders (issue #7)
    },
    "dormant_scan": {
        "tiny": ["--scale", "tiny", "--runs", "1"],
        "small": ["--scale", "small"],
        "default": ["--scale", "default"],
    },
}
FRESH = {"synthetic", "metrics", "dormant_scan"}  # the ones that reuse a dataset
WITH_WORKER = {"ingest_events", "flash_sale"}  # a Celery worker runs beside them
