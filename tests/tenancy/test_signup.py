"""Public sign-up (issue 16, item 1): a new organization and its owner, created only from the
link mailed to the owner; password rules; switched off for self-hosted installs; limited like
the login (per address, per email, the login lockout), also under real concurrency."""

import re
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import ratelimit
from tenancy import tasks
from tenancy.models import AuditLogEntry, Organization, OrgMembership, SignupRequest, User
from tests.factories import OrganizationFactory, UserFactory

from ..concurrency import run_concurrently

PASSWORD = "Lotus-garden-1987!"
LINK = re.compile(r"https?://\S+/accounts/signup/verify/(?P<uid>[^/]+)/(?P<token>[^/]+)/")


def _client(address="203.0.113.9") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _form(**changes) -> dict:
    data = {
        "full_name": "王小明",
        "email": "boss@example.com",
        "organization_name": "小明的店",
        "slug": "xiaoming",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    return {**data, **changes}


@pytest.fixture
def mails_now(monkeypatch):
    """Sign-up mails sent at once by the task (instead of through a broker); the ids queued."""
    queued = []
    lock = threading.Lock()

    def delay(signup_id):
        with lock:
            queued.append(signup_id)
        tasks.send_signup_mail(signup_id)

    monkeypatch.setattr(tasks.send_signup_mail, "delay", delay)
    return queued


def _sign_up(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("signup"), _form(**changes))


def _link(message) -> tuple[str, str]:
    found = LINK.search(message.body)
    assert found, message.body
    return found["uid"], found["token"]


@pytest.mark.django_db
def test_sign_up_verify_and_land_on_the_first_steps(
    mails_now, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://qunyun.example.com"
    client = _client()
    response = _sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == reverse("signup-sent")
    # nothing exists yet but the request, the password only as a hash
    assert not Organization.objects.filter(slug="xiaoming").exists()
    assert not User.objects.filter(email="boss@example.com").exists()
    signup = SignupRequest.objects.get()
    assert PASSWORD not in signup.password_hash and signup.language == "en"

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@example.com"]
    assert message.subject == "Confirm your email to create 小明的店 on Qunyun"
    assert "https://qunyun.example.com/accounts/signup/verify/" in message.body
    uid, token = _link(message)
    url = reverse("signup-verify", args=[uid, token])

    page = client.get(url)  # opening the link (or a mail scanner) creates nothing
    assert page.status_code == 200 and "小明的店" in page.content.decode()
    assert not Organization.objects.filter(slug="xiaoming").exists()

    response = client.post(url)
    org = Organization.objects.get(slug="xiaoming")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard", args=["xiaoming"])
    user = User.objects.get(email="boss@example.com")
    assert user.full_name == "王小明" and user.check_password(PASSWORD)
    membership = OrgMembership.objects.for_org(org).get(user=user)
    assert membership.role == "owner" and org.default_language == "en"
    signup.refresh_from_db()
    assert signup.verified_at is not None and signup.created_org == org
    assert AuditLogEntry.objects.for_org(org).filter(action="org.create").exists()

    home = client.get(reverse("dashboard", args=["xiaoming"]))  # signed in as the owner
    assert home.status_code == 200
    assert 'data-testid="first-steps"' in home.content.decode()

    again = _client("198.51.100.3").post(url)  # the link works once
    assert again.status_code == 400
    assert Organization.objects.filter(name="小明的店").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password1": "12345678", "password2": "12345678"}, "password1", "too common"),
        ({"password1": "Short1!", "password2": "Short1!"}, "password1", "too short"),
        ({"password1": "boss@example", "password2": "boss@example"}, "password1", "similar"),
        ({"password2": "Another-password-22"}, "password2", "The two passwords differ."),
        ({"slug": "Not a slug!"}, "slug", "lowercase letters"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"organization_name": "   "}, "organization_name", "required"),
    ],
)
def test_bad_input_is_a_form_error_and_keeps_nothing(
    mails_now, django_capture_on_commit_callbacks, changes, field, message
):
    response = _sign_up(_client(), django_capture_on_commit_callbacks, **changes)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in response.content.decode()
    assert not SignupRequest.objects.exists() and mail.outbox == []


@pytest.mark.django_db
def test_a_taken_address_is_a_form_error(mails_now, django_capture_on_commit_callbacks):
    OrganizationFactory(slug="xiaoming")
    response = _sign_up(_client(), django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "slug" in response.context["form"].errors
    assert "This address is taken: choose another." in response.content.decode()
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_address_with_an_account_gets_a_login_mail_and_no_link(
    mails_now, django_capture_on_commit_callbacks
):
    UserFactory(email="boss@example.com")
    response = _sign_up(_client(), django_capture_on_commit_callbacks, email="Boss@Example.com ")
    assert response.status_code == 302  # the page reads the same as for a new address
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "You already have a Qunyun account"
    assert "/accounts/login/" in message.body and "/signup/verify/" not in message.body
    assert not Organization.objects.filter(slug="xiaoming").exists()


@pytest.mark.django_db
def test_an_account_made_meanwhile_stops_the_link(mails_now, django_capture_on_commit_callbacks):
    client = _client()
    _sign_up(client, django_capture_on_commit_callbacks)
    uid, token = _link(mail.outbox[0])
    UserFactory(email="boss@example.com")  # e.g. invited to another organization since
    response = client.post(reverse("signup-verify", args=[uid, token]))
    assert response.status_code == 400
    assert "An account with this email exists already" in response.content.decode()
    assert not Organization.objects.filter(slug="xiaoming").exists()


@pytest.mark.django_db
def test_an_address_taken_meanwhile_gets_a_suffix(mails_now, django_capture_on_commit_callbacks):
    client = _client()
    _sign_up(client, django_capture_on_commit_callbacks)
    uid, token = _link(mail.outbox[0])
    OrganizationFactory(slug="xiaoming")
    response = client.post(reverse("signup-verify", args=[uid, token]))
    assert response.status_code == 302
    org = Organization.objects.get(name="小明的店")
    assert re.fullmatch(r"xiaoming-[0-9a-f]{6}", org.slug)


@pytest.mark.django_db
def test_the_link_expires(mails_now, django_capture_on_commit_callbacks, time_machine):
    client = _client()
    _sign_up(client, django_capture_on_commit_callbacks)
    uid, token = _link(mail.outbox[0])
    time_machine.move_to(timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60))
    url = reverse("signup-verify", args=[uid, token])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 400
    assert not Organization.objects.filter(slug="xiaoming").exists()
    # the next sign-up clears expired requests away (with their password hashes)
    _sign_up(client, django_capture_on_commit_callbacks, email="next@example.com", slug="next")
    assert list(SignupRequest.objects.values_list("email", flat=True)) == ["next@example.com"]


@pytest.mark.django_db
def test_a_forged_link_is_refused(mails_now, django_capture_on_commit_callbacks):
    client = _client()
    _sign_up(client, django_capture_on_commit_callbacks)
    uid, token = _link(mail.outbox[0])
    forged = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    for url in (
        reverse("signup-verify", args=[uid, forged]),
        reverse("signup-verify", args=["bm90LWEtbnVtYmVy", token]),  # "not-a-number"
        reverse("signup-verify", args=["%%%", "x"]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 400
    assert not Organization.objects.filter(slug="xiaoming").exists()


@pytest.mark.django_db
def test_switched_off_the_pages_are_gone(settings, mails_now, django_capture_on_commit_callbacks):
    client = _client()
    _sign_up(client, django_capture_on_commit_callbacks)
    uid, token = _link(mail.outbox[0])
    settings.SIGNUP_ENABLED = False
    assert client.get(reverse("signup")).status_code == 404
    assert client.post(reverse("signup"), _form(slug="other")).status_code == 404
    assert client.get(reverse("signup-sent")).status_code == 404
    assert client.post(reverse("signup-verify", args=[uid, token])).status_code == 404
    assert not Organization.objects.filter(slug="xiaoming").exists()
    login = client.get(reverse("login")).content.decode()
    assert 'data-testid="signup-link"' not in login
    settings.SIGNUP_ENABLED = True
    assert 'data-testid="signup-link"' in client.get(reverse("login")).content.decode()


# --- the limits ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_ups_from_one_address_are_throttled(
    settings, mails_now, django_capture_on_commit_callbacks
):
    settings.SIGNUP_ADDRESS_RATE = "3/hour"
    client = _client()
    codes = [
        _sign_up(
            client, django_capture_on_commit_callbacks, email=f"b{i}@example.com", slug=f"s{i}"
        ).status_code
        for i in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]
    assert SignupRequest.objects.count() == 3 and len(mail.outbox) == 3
    refused = client.post(reverse("signup"), _form(email="x@example.com", slug="x"))
    assert int(refused["Retry-After"]) > 0
    # another address is not affected
    other = _sign_up(_client("198.51.100.20"), django_capture_on_commit_callbacks, slug="y")
    assert other.status_code == 302


@pytest.mark.django_db
def test_sign_ups_for_one_email_send_at_most_the_limit(
    settings, mails_now, django_capture_on_commit_callbacks
):
    limit = int(settings.SIGNUP_EMAIL_RATE.split("/")[0])
    responses = [
        _sign_up(_client(f"198.51.100.{i}"), django_capture_on_commit_callbacks, slug=f"s{i}")
        for i in range(limit + 4)
    ]
    assert {r.status_code for r in responses} == {302}  # the page reads the same every time
    assert len(mail.outbox) == limit and SignupRequest.objects.count() == limit


@pytest.mark.django_db
def test_typing_mistakes_do_not_use_up_the_email_limit(
    settings, mails_now, django_capture_on_commit_callbacks
):
    settings.SIGNUP_EMAIL_RATE = "1/hour"
    client = _client()
    for _ in range(3):
        bad = _sign_up(client, django_capture_on_commit_callbacks, password2="different-one-1")
        assert bad.status_code == 400
    OrganizationFactory(slug="taken")
    assert _sign_up(client, django_capture_on_commit_callbacks, slug="taken").status_code == 400
    assert _sign_up(client, django_capture_on_commit_callbacks).status_code == 302
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_address_locked_out_of_logging_in_cannot_sign_up(
    settings, mails_now, django_capture_on_commit_callbacks
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    client = _client()
    for i in range(3):
        client.post(reverse("login"), {"username": f"u{i}@example.com", "password": "wrong"})
    response = _sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert "Too many failed logins from this address" in response.content.decode()
    assert not SignupRequest.objects.exists() and mail.outbox == []


@pytest.mark.django_db
def test_an_account_locked_for_an_address_cannot_sign_up_from_it(
    mails_now, django_capture_on_commit_callbacks
):
    client = _client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "boss@example.com", "password": "wrong"})
    response = _sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert not SignupRequest.objects.exists()
    # the same email from another address is fine
    other = _sign_up(_client("198.51.100.77"), django_capture_on_commit_callbacks)
    assert other.status_code == 302


@pytest.mark.django_db
def test_guessing_links_spends_the_login_lockout(
    settings, mails_now, django_capture_on_commit_callbacks
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    _sign_up(_client("198.51.100.5"), django_capture_on_commit_callbacks)
    uid, token = _link(mail.outbox[0])
    guesser = _client()
    codes = [
        guesser.post(reverse("signup-verify", args=[uid, f"abc-{i}"])).status_code for i in range(6)
    ]
    assert codes == [400] * 4 + [429] * 2
    # locked out now: even the right link waits, and logging in from there too
    assert guesser.post(reverse("signup-verify", args=[uid, token])).status_code == 429
    login = guesser.post(reverse("login"), {"username": "a@example.com", "password": "x"})
    assert login.status_code == 429
    assert not Organization.objects.filter(slug="xiaoming").exists()
    # from the owner's own address the link still works
    assert (
        _client("198.51.100.5").post(reverse("signup-verify", args=[uid, token])).status_code == 302
    )


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_sign_ups_for_one_email_never_exceed_the_limit(mails_now):
    ratelimit.reset_all()
    turn = iter(range(24))
    lock = threading.Lock()

    def sign_up():
        with lock:
            i = next(turn)
        client = _client(f"198.51.100.{i}")
        return client.post(reverse("signup"), _form(slug=f"par{i}")).status_code

    codes = run_concurrently(sign_up, times=24)
    assert codes == [302] * 24
    limit = int(settings.SIGNUP_EMAIL_RATE.split("/")[0])
    assert SignupRequest.objects.count() == limit
    assert len(mails_now) == limit


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_sign_ups_from_one_address_never_exceed_the_limit(settings, mails_now):
    settings.SIGNUP_ADDRESS_RATE = "4/hour"
    turn = iter(range(16))
    lock = threading.Lock()

    def sign_up():
        with lock:
            i = next(turn)
        return _client().post(reverse("signup"), _form(email=f"p{i}@example.com", slug=f"p{i}"))

    codes = sorted(r.status_code for r in run_concurrently(sign_up, times=16))
    assert codes == [302] * 4 + [429] * 12
    assert SignupRequest.objects.count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_the_link_at_once_create_one_organization(
    mails_now, django_capture_on_commit_callbacks
):
    client = _client()
    client.post(reverse("signup"), _form())
    uid, token = _link(mail.outbox[0])
    url = reverse("signup-verify", args=[uid, token])
    codes = sorted(run_concurrently(lambda: _client().post(url).status_code, times=6))
    assert codes == [302] + [400] * 5
    assert Organization.objects.filter(name="小明的店").count() == 1
    assert User.objects.filter(email="boss@example.com").count() == 1
