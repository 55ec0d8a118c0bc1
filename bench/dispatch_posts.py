"""10,000 posts fall due at once; two dispatchers (separate processes, separate database
connections) race to publish them. Prints the time and the number of duplicates (must be 0).

The raw baseline, in the same run and on the same posts before the dispatchers start: one
set-based statement that marks every due post sent and writes its `post.publish` action
(`WITH due AS (UPDATE … RETURNING …) INSERT … SELECT`), in a transaction rolled back.

Run: `uv run python bench/dispatch_posts.py [--posts 10000] [--workers 2] [--json-out PATH]`
(PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench).
"""

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TESTING", "1")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qunyun_bench")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ["REDIS_URL"] = os.environ.get("REDIS_URL", "")


def _ensure_database():
    import psycopg

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL).")
    admin, _, name = url.rpartition("/")
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _worker(org_id, queue):
    import django

    django.setup()
    from communities.content import dispatch_due
    from tenancy.models import Organization

    org = Organization.objects.get(pk=org_id)
    started = time.perf_counter()
    count = dispatch_due(org)
    queue.put((count, time.perf_counter() - started))


RAW_PUBLISH = """
WITH due AS (
    UPDATE communities_scheduledpost SET status = 'sent', sent_at = now()
    WHERE organization_id = %(org)s AND status = 'scheduled' AND scheduled_at <= now()
    RETURNING id, community_id, text, content_type, scheduled_at
)
INSERT INTO integrations_action (organization_id, kind, community_id, payload, status,
    created_at, updated_at, attempts, outcome)
SELECT %(org)s, 'post.publish', community_id,
       jsonb_build_object('text', text, 'post_id', id, 'content_type', content_type,
                          'scheduled_at', scheduled_at),
       'pending', now(), now(), 0, ''
FROM due
"""


def raw_baseline(org_id):
    """Publish every due post in one statement, rolled back: (seconds, posts)."""
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT set_config('app.org_id', '0', false)")
        conn.execute("BEGIN")
        started = time.perf_counter()
        count = conn.execute(RAW_PUBLISH, {"org": org_id}).rowcount
        seconds = time.perf_counter() - started
        conn.execute("ROLLBACK")
        conn.execute("VACUUM ANALYZE communities_scheduledpost")
    return seconds, count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    _ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from communities.models import Community, ScheduledPost
    from integrations.models import Action
    from tenancy.services import organization_create

    call_command("migrate", verbosity=0)
    slug = f"dispatch-{int(time.time())}"
    org = organization_create(name="dispatch bench", slug=slug, owner_email=f"{slug}@example.com")
    groups = Community.objects.bulk_create(
        [Community(organization=org, name=f"g{i}", external_id=f"g{i}") for i in range(50)]
    )
    due = timezone.now() - timezone.timedelta(minutes=1)
    ScheduledPost.objects.bulk_create(
        [
            ScheduledPost(
                organization=org,
                community=groups[i % 50],
                scheduled_at=due,
                content_type="tips",
                text=f"post {i}",
            )
            for i in range(args.posts)
        ],
        batch_size=2000,
    )
    connection.close()
    raw_seconds, raw_count = raw_baseline(org.pk)
    queue = multiprocessing.Queue()
    started = time.perf_counter()
    workers = [
        multiprocessing.Process(target=_worker, args=(org.pk, queue)) for _ in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
    elapsed = time.perf_counter() - started
    results = [queue.get() for _ in workers]
    actions = Action.objects.for_org(org).filter(kind="post.publish")
    distinct = actions.values("payload__post_id").distinct().count()
    total = actions.count()
    print(f"posts due                {args.posts:>10,}")
    print(f"dispatchers              {args.workers:>10}")
    for i, (count, seconds) in enumerate(results):
        print(f"  dispatcher {i + 1}           {count:>10,} posts in {seconds:.2f} s")
    print(f"wall time                {elapsed:>10.2f} s  ({args.posts / elapsed:,.0f} posts/s)")
    print(f"actions written          {total:>10,}")
    print(f"duplicates               {total - distinct:>10,}")
    left = ScheduledPost.objects.for_org(org).filter(status="scheduled").count()
    print(f"left unsent              {left:>10,}")
    print(
        f"raw baseline             {raw_seconds:>10.2f} s  ({raw_count:,} posts in one "
        "UPDATE … RETURNING + INSERT, rolled back)"
    )
    print(f"ratio dispatchers ÷ raw  {elapsed / raw_seconds:>10.1f}×")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "posts": args.posts,
            "dispatchers": args.workers,
            "shares": [count for count, _s in results],
            "wall_s": round(elapsed, 3),
            "posts_per_s": round(args.posts / elapsed, 1),
            "actions": total,
            "duplicates": total - distinct,
            "left_unsent": left,
            "raw_s": round(raw_seconds, 3),
            "raw_posts": raw_count,
            "ratio_dispatch_over_raw": round(elapsed / raw_seconds, 1),
            "load_average": round(os.getloadavg()[0], 2),
        }
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
