"""One long poller at a time: a second `telegram_poll` stands by until the first stops."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from connectors import lease
from connectors.models import PollerLease
from connectors.telegram import polling

from ..concurrency import run_concurrently
from .conftest import TOKEN_A, connect

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "system"])
NAME = polling.POLLER_LEASE


def test_of_pollers_starting_at_the_same_moment_exactly_one_holds_the_lease():
    holders = iter(f"poller-{n}" for n in range(8))
    taken = run_concurrently(lambda: lease.hold(NAME, next(holders), 60), times=8)
    assert sorted(taken) == [False] * 7 + [True]


def test_the_holder_renews_its_lease_and_a_stopped_one_frees_it_at_once():
    assert lease.hold(NAME, "first", 60)
    assert lease.hold(NAME, "first", 60)  # renewed
    assert not lease.hold(NAME, "second", 60)
    assert lease.holder_of(NAME).holder == "first"
    lease.release(NAME, "first")
    assert lease.holder_of(NAME) is None
    assert lease.hold(NAME, "second", 60)


def test_a_dead_pollers_lease_runs_out_and_another_takes_over():
    assert lease.hold(NAME, "died", 60)
    PollerLease.objects.using("system").filter(name=NAME).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert lease.hold(NAME, "standby", 60)
    assert lease.holder_of(NAME).holder == "standby"


def test_a_second_poller_stands_by_without_asking_telegram(org_a, bot_api, settings):
    settings.TELEGRAM_POLLER_STANDBY_SECONDS = 0
    connect(org_a.org, TOKEN_A)
    assert lease.hold(NAME, "the running one", 60)
    passes = iter(range(3))
    polling.run_forever(stop=lambda: next(passes, None) is None, holder="second")
    assert bot_api.of("getUpdates") == []
    assert lease.holder_of(NAME).holder == "the running one"

    lease.release(NAME, "the running one")  # it stopped: the second takes over
    passes = iter(range(1))
    polling.run_forever(stop=lambda: next(passes, None) is None, holder="second")
    assert len(bot_api.of("getUpdates")) == 1
    assert lease.holder_of(NAME) is None  # given back when it stopped


def test_one_pass_of_the_command_refuses_while_a_poller_runs(org_a, bot_api):
    connect(org_a.org, TOKEN_A)
    assert lease.hold(NAME, "host-1:4242:abcd", 60)
    with pytest.raises(CommandError, match="host-1:4242:abcd"):
        call_command("telegram_poll", "--once", stdout=StringIO())
    assert bot_api.of("getUpdates") == []
