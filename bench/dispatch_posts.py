"""10,000 posts fall due at once; two dispatchers (separate processes, separate database
connections) race to publish them. Prints the time and the number of duplicates (must be 0).

The raw baseline, in the same run and on the same posts before the dispatchers start: one
set-based statement that marks every due post sent and writes its `post.publish` action
(`WITH due AS (UPDATE … RETURNING …) INSERT … SELECT`), in a transaction rolled back.

Run: `uv run python bench/dispatch_posts.py [--posts 10000] [--workers 2] [--json-out PATH]`
(PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/dispatch_posts.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import multiprocessing
import time

from bench.lib import app, db, env, results


def _worker(org_id, queue):
    """One dispatcher: its own process and database connection (forked after Django set-up
    and after the parent closed its connection)."""
    org = app.Organization.objects.get(pk=org_id)
    started = time.perf_counter()
    count = app.dispatch_due(org)
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
    with db.connect() as conn:
        conn.execute("BEGIN")
        started = time.perf_counter()
        count = conn.execute(RAW_PUBLISH, {"org": org_id}).rowcount
        seconds = time.perf_counter() - started
        conn.execute("ROLLBACK")
        conn.execute("VACUUM ANALYZE communities_scheduledpost")
    return seconds, count


def setup(posts: int):
    """A fresh organization with 50 groups (through the service) and `posts` posts due a
    minute ago (bulk-created through the model: one by one, the service would dominate)."""
    from django.utils import timezone

    slug = f"dispatch-{int(time.time())}"
    org = app.organization_create(
        name="dispatch bench", slug=slug, owner_email=f"{slug}@example.com"
    )
    system = app.system_actor(org)
    with app.org_scope(org):
        groups = [
            app.community_create(actor=system, name=f"g{i}", external_id=f"g{i}") for i in range(50)
        ]
    due = timezone.now() - timezone.timedelta(minutes=1)
    app.ScheduledPost.objects.bulk_create(
        [
            app.ScheduledPost(
                organization=org,
                community=groups[i % 50],
                scheduled_at=due,
                content_type="tips",
                text=f"post {i}",
            )
            for i in range(posts)
        ],
        batch_size=2000,
    )
    return org


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    env.setup_django()
    from django.db import connection

    org = setup(args.posts)
    connection.close()  # the dispatchers are forked: none of them may share it
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
    shares = [queue.get() for _ in workers]
    actions = app.Action.objects.for_org(org).filter(kind="post.publish")
    distinct = actions.values("payload__post_id").distinct().count()
    total = actions.count()
    left = app.ScheduledPost.objects.for_org(org).filter(status="scheduled").count()
    print(f"posts due                {args.posts:>10,}")
    print(f"dispatchers              {args.workers:>10}")
    for i, (count, seconds) in enumerate(shares):
        print(f"  dispatcher {i + 1}           {count:>10,} posts in {seconds:.2f} s")
    print(f"wall time                {elapsed:>10.2f} s  ({args.posts / elapsed:,.0f} posts/s)")
    print(f"actions written          {total:>10,}")
    print(f"duplicates               {total - distinct:>10,}")
    print(f"left unsent              {left:>10,}")
    print(
        f"raw baseline             {raw_seconds:>10.2f} s  ({raw_count:,} posts in one "
        "UPDATE … RETURNING + INSERT, rolled back)"
    )
    print(f"ratio dispatchers ÷ raw  {elapsed / raw_seconds:>10.1f}×")
    results.write_json(
        args.json_out,
        {
            "posts": args.posts,
            "dispatchers": args.workers,
            "shares": [count for count, _s in shares],
            "wall_s": round(elapsed, 3),
            "posts_per_s": round(args.posts / elapsed, 1),
            "actions": total,
            "duplicates": total - distinct,
            "left_unsent": left,
            "raw_s": round(raw_seconds, 3),
            "raw_posts": raw_count,
            "ratio_dispatch_over_raw": round(elapsed / raw_seconds, 1),
            "load_average": results.load_average(),
        },
    )


if __name__ == "__main__":
    main()
