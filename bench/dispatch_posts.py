"""10,000 posts fall due at once; two dispatchers (separate processes, separate database
connections) race to publish them. Prints the time and the number of duplicates (must be 0).

Run: `uv run python bench/dispatch_posts.py [--posts 10000] [--workers 2]` (PostgreSQL:
DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench).
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
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
    print(
        f"left unsent              {ScheduledPost.objects.for_org(org).filter(status='scheduled').count():>10,}"
    )


if __name__ == "__main__":
    main()
