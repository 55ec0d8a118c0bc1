"""Accounts: login, brute-force lockout, logout, password change and reset, cookie settings."""

import re
import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

NEW_PASSWORD = "plum-orbit-lantern-74"
SETTINGS_FILE = Path(settings.BASE_DIR) / "config" / "settings.py"


def _client(user=None) -> Client:
    """A client that reads the English UI (so text assertions do not depend on the catalogue)."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def _login(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def _logged_in_as(client, user) -> bool:
    return client.session.get(SESSION_KEY) == str(user.pk)


# --- Login -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_with_email_and_password_redirects_home():
    user = UserFactory(email="alice@example.com")
    client = _client()
    response = _login(client, "alice@example.com", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _logged_in_as(client, user)


@pytest.mark.django_db
def test_login_email_is_case_insensitive():
    user = UserFactory(email="alice@example.com")
    client = _client()
    response = _login(client, "  ALICE@Example.COM", TEST_PASSWORD)
    assert response.status_code == 302
    assert _logged_in_as(client, user)


@pytest.mark.django_db
def test_login_honours_a_safe_next_url(org_a):
    client = _client()
    dashboard = reverse("dashboard", kwargs={"org_slug": org_a.org.slug})
    response = client.post(
        reverse("login"),
        {"username": org_a.owner.email, "password": TEST_PASSWORD, "next": dashboard},
    )
    assert response.status_code == 302
    assert response["Location"] == dashboard


@pytest.mark.django_db
def test_wrong_password_rerenders_the_form_with_an_error():
    user = UserFactory(email="alice@example.com")
    client = _client()
    response = _login(client, user.email, "not-the-password")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.non_field_errors()
    assert 'type="password"' in response.content.decode()
    assert not _logged_in_as(client, user)


@pytest.mark.django_db
def test_unknown_email_and_malformed_email_do_not_crash():
    client = _client()
    assert _login(client, "nobody@example.com", TEST_PASSWORD).status_code == 200
    response = _login(client, "not-an-email", TEST_PASSWORD)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_signed_in_user_visiting_login_is_redirected():
    user = UserFactory()
    response = _client(user).get(reverse("login"))
    assert response.status_code == 302


# --- Brute-force lockout (django-axes) -------------------------------------------------------


def _fail(client, email, times):
    for _ in range(times):
        response = _login(client, email, "wrong-password-guess")
        assert response.status_code != 500
    return response


def _assert_locked_out(response):
    assert response.status_code in (403, 429)
    assert response.status_code != 302
    assert "Too many failed logins" in response.content.decode()


@pytest.mark.django_db
def test_five_failures_lock_the_account_even_for_the_right_password():
    user = UserFactory(email="victim@example.com")
    client = _client()
    _fail(client, user.email, settings.AXES_FAILURE_LIMIT)
    response = _login(client, user.email, TEST_PASSWORD)
    _assert_locked_out(response)
    assert not _logged_in_as(client, user)
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_four_failures_do_not_lock_and_success_resets_the_counter():
    user = UserFactory(email="victim@example.com")
    client = _client()
    _fail(client, user.email, settings.AXES_FAILURE_LIMIT - 1)
    response = _login(client, user.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert _logged_in_as(client, user)
    # AXES_RESET_ON_SUCCESS: four more failures after a success still do not lock.
    other = _client()
    _fail(other, user.email, settings.AXES_FAILURE_LIMIT - 1)
    assert _login(other, user.email, TEST_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_lockout_is_per_account_another_account_from_the_same_ip_can_log_in():
    victim = UserFactory(email="victim@example.com")
    bystander = UserFactory(email="bystander@example.com")
    client = _client()
    _fail(client, victim.email, settings.AXES_FAILURE_LIMIT)
    _assert_locked_out(_login(client, victim.email, TEST_PASSWORD))

    other = _client()  # same REMOTE_ADDR (127.0.0.1)
    typo = _login(other, bystander.email, "a-typo")  # one mistake is not a lockout
    assert typo.status_code == 200
    assert typo.context["form"].non_field_errors()
    response = _login(other, bystander.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert _logged_in_as(other, bystander)


@pytest.mark.django_db
def test_lockout_cannot_be_bypassed_by_changing_the_email_case():
    # Login is case-insensitive, so "VICTIM@example.com" is the same account and must be
    # locked too; otherwise every case variant buys five more guesses.
    victim = UserFactory(email="victim@example.com")
    client = _client()
    _fail(client, victim.email, settings.AXES_FAILURE_LIMIT)
    response = _login(client, "VICTIM@Example.com", TEST_PASSWORD)
    _assert_locked_out(response)
    assert not _logged_in_as(client, victim)


# --- Logout ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_is_post_only_and_ends_the_session():
    user = UserFactory()
    client = _client(user)
    assert client.get(reverse("logout")).status_code == 405
    assert _logged_in_as(client, user)

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("login"))


# --- Password change ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_change_needs_login():
    response = _client().get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_password_change_with_wrong_old_password_is_a_form_error():
    user = UserFactory()
    client = _client(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "not-my-password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_password_change_rejects_a_weak_password():
    user = UserFactory()
    client = _client(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_password_change_works_and_the_new_password_logs_in():
    user = UserFactory(email="alice@example.com")
    client = _client(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert _logged_in_as(client, user)  # the session survives its own password change

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _login(_client(), user.email, TEST_PASSWORD).status_code == 200
    fresh = _client()
    assert _login(fresh, user.email, NEW_PASSWORD).status_code == 302
    assert _logged_in_as(fresh, user)


# --- Password reset -----------------------------------------------------------------------------


@pytest.fixture
def eager_tasks(monkeypatch):
    """The reset mail is sent by a Celery task; run tasks in-process here."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.mark.django_db
def test_password_reset_by_email_link_sets_a_new_password(eager_tasks):
    user = UserFactory(email="alice@example.com")
    client = _client()
    response = client.post(reverse("password_reset"), {"email": "Alice@Example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]

    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    link = match.group(1)

    response = client.get(link)
    assert response.status_code == 302
    set_password_url = response["Location"]
    assert set_password_url.endswith("/set-password/")

    response = client.get(set_password_url)
    assert response.status_code == 200
    assert response.context["validlink"]

    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # The link is single-use.
    again = _client().get(link, follow=True)
    assert again.status_code == 200
    assert not again.context["validlink"]


@pytest.mark.django_db
def test_password_reset_weak_password_is_rejected(eager_tasks):
    user = UserFactory(email="alice@example.com")
    client = _client()
    client.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"https?://[^/\s]+(/\S+/)", mail.outbox[0].body).group(1)
    set_password_url = client.get(link)["Location"]
    response = client.post(set_password_url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_password_reset_for_unknown_email_sends_nothing_but_looks_the_same(eager_tasks):
    UserFactory(email="alice@example.com")
    known = _client().post(reverse("password_reset"), {"email": "alice@example.com"}, follow=True)
    mail.outbox.clear()
    unknown = _client().post(
        reverse("password_reset"), {"email": "nobody@example.com"}, follow=True
    )
    assert mail.outbox == []
    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert "If an account exists for that address" in unknown.content.decode()


# --- Session and CSRF cookie settings ---------------------------------------------------------


def test_cookie_settings_are_hardened():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True


def _load_settings(monkeypatch, **env):
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "DEBUG"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_secure_cookie_defaults_follow_debug(monkeypatch):
    production = _load_settings(monkeypatch, DEBUG="0")
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    development = _load_settings(monkeypatch, DEBUG="1")
    assert development["SESSION_COOKIE_SECURE"] is False
    assert development["CSRF_COOKIE_SECURE"] is False


@pytest.mark.django_db
def test_session_cookie_is_sent_with_the_hardened_flags():
    user = UserFactory(email="alice@example.com")
    response = _login(_client(), user.email, TEST_PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"]
