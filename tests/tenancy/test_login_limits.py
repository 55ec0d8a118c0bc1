"""Login and password-reset limits (issue 19, item 4): per address as well as per account, held
under real concurrency (threads, each with its own PostgreSQL connection, counting in Redis),
and the reset mail sent by Celery rather than inside the request."""

import threading

import pytest
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core import mail
from django.test import Client
from django.urls import reverse

from tenancy import tasks
from tests.factories import TEST_PASSWORD, UserFactory

from ..concurrency import run_concurrently

WRONG = "wrong-password-guess"


def _client(address="203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _login(client, email, password=WRONG):
    return client.post(reverse("login"), {"username": email, "password": password})


@pytest.fixture
def password_checks():
    """How many attempts actually reached the password check and failed."""
    seen = []
    lock = threading.Lock()

    def count(sender, credentials, request=None, **kwargs):
        with lock:
            seen.append(credentials.get("username"))

    user_login_failed.connect(count, weak=False)
    yield seen
    user_login_failed.disconnect(count)


@pytest.fixture
def queued_resets(monkeypatch):
    """Reset mails handed to Celery (user id, language), instead of a broker."""
    queued = []
    lock = threading.Lock()

    def delay(*args):
        with lock:
            queued.append(args)

    monkeypatch.setattr(tasks.send_password_reset, "delay", delay)
    return queued


# --- login -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_password_across_many_accounts_from_one_address_is_limited(settings, password_checks):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    users = [UserFactory(email=f"spray{i}@example.com") for i in range(15)]
    client = _client()
    codes = [_login(client, user.email).status_code for user in users]
    assert codes == [200] * 10 + [429] * 5
    assert len(password_checks) == 10  # the last five never reached the password check
    refused = _login(client, users[0].email, TEST_PASSWORD)
    assert refused.status_code == 429
    assert "from this address" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # another address is not affected
    assert _login(_client("198.51.100.4"), users[0].email, TEST_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_successful_logins_do_not_use_up_the_address_budget(settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    user = UserFactory(email="office@example.com")
    for _ in range(6):  # a shared office address: people log in all day
        client = _client()
        assert _login(client, user.email, TEST_PASSWORD).status_code == 302
    client = _client()
    assert [_login(client, user.email).status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_across_accounts_never_exceed_the_address_limit(settings, password_checks):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    emails = [UserFactory(email=f"parallel{i}@example.com").email for i in range(32)]
    turn = iter(emails)
    lock = threading.Lock()

    def guess():
        with lock:
            email = next(turn)
        return _login(_client(), email).status_code

    codes = run_concurrently(guess, times=32)
    assert len(password_checks) == 8
    assert sorted(codes) == [200] * 8 + [429] * 24


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_on_one_account_never_exceed_its_lockout(password_checks):
    victim = UserFactory(email="victim@example.com")
    codes = run_concurrently(lambda: _login(_client(), victim.email).status_code, times=32)
    assert len(password_checks) == settings.AXES_FAILURE_LIMIT
    assert all(code in (200, 403, 429) for code in codes)
    assert _login(_client(), victim.email, TEST_PASSWORD).status_code != 302


# --- password reset ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_reset_requests_for_one_account_are_throttled(queued_resets):
    user = UserFactory(email="alice@example.com")
    responses = [
        _client(f"198.51.100.{i}").post(reverse("password_reset"), {"email": "Alice@example.com"})
        for i in range(16)
    ]
    assert {r.status_code for r in responses} == {302}  # the page reads the same every time
    limit = int(settings.PASSWORD_RESET_ACCOUNT_RATE.split("/")[0])
    assert queued_resets == [(user.pk, "en")] * limit
    assert mail.outbox == []  # nothing was sent inside the request


@pytest.mark.django_db
def test_reset_requests_from_one_address_are_throttled(settings, queued_resets):
    settings.PASSWORD_RESET_ADDRESS_RATE = "5/hour"
    for i in range(8):
        UserFactory(email=f"user{i}@example.com")
    client = _client()
    codes = [
        client.post(reverse("password_reset"), {"email": f"user{i}@example.com"}).status_code
        for i in range(8)
    ]
    assert codes == [302] * 5 + [429] * 3
    assert len(queued_resets) == 5


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_reset_requests_queue_no_more_mails_than_the_limit(queued_resets):
    UserFactory(email="alice@example.com")
    run_concurrently(
        lambda: _client().post(reverse("password_reset"), {"email": "alice@example.com"}),
        times=24,
    )
    assert len(queued_resets) == int(settings.PASSWORD_RESET_ACCOUNT_RATE.split("/")[0])


@pytest.mark.django_db
def test_the_task_sends_the_mail_with_a_link_on_the_site_url(settings):
    settings.SITE_URL = "https://qunyun.example.com"
    user = UserFactory(email="alice@example.com")
    tasks.send_password_reset(user.pk, "zh-hans")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "https://qunyun.example.com/accounts/password/reset/" in message.body
    assert "重置" in message.subject or "密码" in message.subject


@pytest.mark.django_db
def test_the_task_sends_nothing_for_a_deactivated_account():
    user = UserFactory(email="gone@example.com", is_active=False)
    tasks.send_password_reset(user.pk, "en")
    assert mail.outbox == []
