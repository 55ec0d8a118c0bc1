"""A refresh running while a bot's batch commits: the batch is neither blocked by it nor lost
to it (real parallel connections on PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from communities.models import Community
from ingestion.pipeline import ingest_events
from metrics import rollups
from metrics.models import DirtyDay
from metrics.rates import window_rates
from metrics.windows import last_days
from tenancy.actors import Actor
from tenancy.services import api_key_create, organization_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _message(n, user, at):
    return {
        "id": f"race-{n}",
        "type": "message.posted",
        "occurred_at": at.isoformat(),
        "community": "g1",
        "user": user,
    }


def test_events_committed_during_a_refresh_are_recomputed_next_time(monkeypatch):
    org = organization_create(name="并发刷新", slug="refresh-race", owner_email="r@example.com")
    key, _raw = api_key_create(actor=Actor.system(org), name="bot")
    actor = Actor.for_api_key(key)
    at = timezone.now() - timedelta(minutes=5)
    ingest_events(actor=actor, raw_events=[_message(1, "early", at)])

    counted = threading.Event()
    committed = threading.Event()
    real_count = rollups._count_events

    def slow_count(*args, **kwargs):
        real_count(*args, **kwargs)  # the refresh has read the day's events...
        counted.set()
        assert committed.wait(20), "the batch was blocked by the refresh"  # ...then a batch lands

    monkeypatch.setattr(rollups, "_count_events", slow_count)
    errors = []

    def refresh():
        try:
            rollups.refresh(org, limit=1)  # one round: the one that could not see the batch
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    refresher = threading.Thread(target=refresh)
    refresher.start()
    assert counted.wait(20)
    ingest_events(actor=actor, raw_events=[_message(2, "late", at + timedelta(seconds=1))])
    committed.set()
    refresher.join(30)
    assert not refresher.is_alive() and not errors, errors

    # the late batch's own mark survived the refresh that could not see its events
    assert DirtyDay.objects.for_org(org).exists()
    monkeypatch.setattr(rollups, "_count_events", real_count)
    rollups.refresh(org)
    group = Community.objects.for_org(org).get(external_id="g1")
    (rates,) = window_rates(org, [group.pk], last_days(org, 7))
    assert rates[group.pk].speakers == 2
