"""Invitations and team management: invite, accept (once), revoke, roles, deactivation."""

import re
import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from tenancy import rls, tokens
from tenancy.actors import Actor
from tenancy.models import AuditLogEntry, Invitation, OrgMembership, User
from tenancy.roles import OrgRole
from tenancy.services import (
    invitation_accept,
    invitation_by_token,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_set_active,
    organization_create,
)

from ..factories import TEST_PASSWORD, UserFactory

INVITEE = "new.person@example.com"
NEW_PASSWORD = "plum-orbit-lantern-74"
INVALID_LINK_TEXT = "This invitation link is invalid, expired or already used"


def _english(client: Client) -> Client:
    """Read the English UI, whatever the organization's language, so text checks are stable."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _anon() -> Client:
    return _english(Client())


def _signed_in(tenant, user) -> Client:
    return _english(tenant.client_for(user))


def _team_url(tenant):
    return reverse("team", kwargs={"org_slug": tenant.org.slug})


def _dashboard_url(org):
    return reverse("dashboard", kwargs={"org_slug": org.slug})


def _membership(tenant, user):
    return OrgMembership.objects.for_org(tenant.org).get(user=user)


def _member_action_url(tenant, membership, action):
    return reverse(
        f"team-member-{action}", kwargs={"org_slug": tenant.org.slug, "pk": membership.pk}
    )


def _invitations(tenant):
    return Invitation.objects.for_org(tenant.org)


def _audit(tenant, action):
    return AuditLogEntry.objects.for_org(tenant.org).filter(action=action)


def _invite(tenant, email=INVITEE, role=OrgRole.STAFF, by=None):
    """Create an invitation through the service; returns (invitation, raw token)."""
    return invitation_create(actor=tenant.actor(by), email=email, role=role)


def _accept_url(token):
    return reverse("invitation-accept", kwargs={"token": token})


def _new_account_data(password=NEW_PASSWORD):
    return {"full_name": "新同事", "new_password1": password, "new_password2": password}


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Inviting ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_invites_by_email_and_role(org_a, django_capture_on_commit_callbacks):
    client = _signed_in(org_a, org_a.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _team_url(org_a), {"email": " New.Person@Example.com ", "role": "manager"}
        )
    assert response.status_code == 302
    assert response["Location"] == _team_url(org_a)

    invitation = _invitations(org_a).get()
    assert invitation.email == INVITEE
    assert invitation.role == OrgRole.MANAGER
    assert invitation.invited_by == org_a.owner
    assert invitation.status == "pending"
    assert invitation.expires_at > timezone.now() + settings.INVITATION_TTL - timezone.timedelta(
        minutes=5
    )

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [INVITEE]
    match = re.search(r"https?://\S+?/invite/([A-Za-z0-9_-]+)/", message.body)
    assert match, message.body
    token = match.group(1)

    # Only a keyed hash of the token is stored, never the token itself.
    assert invitation.token_hash != token
    assert token not in invitation.token_hash
    assert invitation.token_hash == tokens.keyed_hash(token)
    with rls.lookup("invitation", token):  # were the raw token stored, this would find it
        assert not Invitation.objects.unscoped().filter(token_hash=token).exists()
    assert invitation_by_token(token) == invitation

    entry = _audit(org_a, "team.invite").get()
    assert entry.actor_user == org_a.owner
    assert entry.object_id == str(invitation.pk)
    assert token not in entry.summary


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_invitation_email_is_in_the_organizations_language(
    org_a, language, django_capture_on_commit_callbacks
):
    org_a.org.default_language = language
    org_a.org.save(update_fields=["default_language"])
    other = "en" if language == "zh-hans" else "zh-hans"
    client = org_a.client_for(org_a.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = other  # the inviter reads another language
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_team_url(org_a), {"email": INVITEE, "role": "staff"})

    message = mail.outbox[0]
    with translation.override(language):
        accept = gettext("Accept the invitation:")
        expected_subject = gettext("You are invited to %(org)s on Qunyun") % {"org": org_a.org.name}
    assert message.subject == expected_subject
    assert accept in message.body
    assert org_a.org.name in message.subject
    with translation.override(other):
        other_accept = gettext("Accept the invitation:")
    assert other_accept != accept  # the catalogues are compiled: the languages really differ
    assert other_accept not in message.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, field",
    [
        ({"email": "not-an-email", "role": "staff"}, "email"),
        ({"email": "", "role": "staff"}, "email"),
        ({"email": INVITEE, "role": "emperor"}, "role"),
        ({"email": INVITEE}, "role"),
    ],
)
def test_bad_invitation_input_is_a_form_error(org_a, data, field):
    response = _signed_in(org_a, org_a.owner).post(_team_url(org_a), data)
    assert response.status_code in (200, 400)
    assert field in response.context["form"].errors
    assert not _invitations(org_a).exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_inviting_an_active_member_is_a_form_error(org_a):
    response = _signed_in(org_a, org_a.owner).post(
        _team_url(org_a), {"email": org_a.analyst.email.upper(), "role": "manager"}
    )
    assert response.status_code in (200, 400)
    assert "email" in response.context["form"].errors
    assert not _invitations(org_a).exists()
    with pytest.raises(ValidationError):
        _invite(org_a, email=org_a.analyst.email)


@pytest.mark.django_db
def test_a_member_of_another_org_can_be_invited(org_a, org_b):
    invitation, _token = _invite(org_a, email=org_b.owner.email)
    assert invitation.status == "pending"


@pytest.mark.django_db
def test_manager_can_invite_but_not_an_owner(org_a):
    client = _signed_in(org_a, org_a.manager)
    response = client.post(_team_url(org_a), {"email": INVITEE, "role": "owner"})
    assert response.status_code in (200, 400)
    assert "role" in response.context["form"].errors
    assert not _invitations(org_a).exists()
    with pytest.raises(ValidationError):
        _invite(org_a, role=OrgRole.OWNER, by=org_a.manager)

    response = client.post(_team_url(org_a), {"email": INVITEE, "role": "manager"})
    assert response.status_code == 302
    assert _invitations(org_a).get().role == OrgRole.MANAGER


@pytest.mark.django_db
def test_owner_may_invite_an_owner(org_a):
    invitation, _token = _invite(org_a, role=OrgRole.OWNER)
    assert invitation.role == OrgRole.OWNER


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["analyst", "deputy"])
def test_analyst_and_staff_cannot_see_or_manage_the_team(org_a, who):
    client = _signed_in(org_a, getattr(org_a, who))
    assert client.get(_team_url(org_a)).status_code == 403
    response = client.post(_team_url(org_a), {"email": INVITEE, "role": "staff"})
    assert response.status_code == 403
    assert not _invitations(org_a).exists()
    with pytest.raises(PermissionDenied):
        _invite(org_a, by=getattr(org_a, who))


@pytest.mark.django_db
def test_reinviting_revokes_the_pending_invitation(org_a):
    first, first_token = _invite(org_a, role=OrgRole.STAFF)
    second, second_token = _invite(org_a, email=INVITEE.upper(), role=OrgRole.ANALYST)
    first.refresh_from_db()
    assert first.status == "revoked"
    assert second.status == "pending"
    assert _invitations(org_a).filter(email=INVITEE, revoked_at=None).get() == second
    assert _anon().get(_accept_url(first_token)).status_code == 404
    assert _anon().get(_accept_url(second_token)).status_code == 200


@pytest.mark.django_db
def test_owner_revokes_an_invitation(org_a):
    invitation, token = _invite(org_a)
    client = _signed_in(org_a, org_a.owner)
    url = reverse("invitation-revoke", kwargs={"org_slug": org_a.org.slug, "pk": invitation.pk})
    assert client.post(url).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert _audit(org_a, "team.invite_revoke").count() == 1
    # Revoking twice is a message, not a crash.
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "Only a pending invitation can be revoked." in _messages(response)


@pytest.mark.django_db
def test_other_org_cannot_revoke_an_invitation(org_a, org_b):
    invitation, _token = _invite(org_a)
    url = reverse("invitation-revoke", kwargs={"org_slug": org_b.org.slug, "pk": invitation.pk})
    assert _signed_in(org_b, org_b.owner).post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending"


# --- Accepting -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_user_accepts_and_lands_on_the_dashboard(org_a):
    _invitation, token = _invite(org_a, role=OrgRole.ANALYST)
    client = _anon()

    page = client.get(_accept_url(token))
    assert page.status_code == 200
    assert page.context["invitation"] is not None
    assert {"full_name", "new_password1", "new_password2"} <= set(page.context["form"].fields)
    assert INVITEE in page.content.decode()

    response = client.post(_accept_url(token), _new_account_data())
    assert response.status_code == 302
    assert response["Location"] == _dashboard_url(org_a.org)

    user = User.objects.get(email=INVITEE)
    assert user.full_name == "新同事"
    assert user.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)
    membership = _membership(org_a, user)
    assert membership.role == OrgRole.ANALYST
    assert membership.is_active
    invitation = _invitations(org_a).get()
    assert invitation.status == "accepted"
    assert invitation.accepted_by == user
    assert _audit(org_a, "team.join").filter(actor_user=user).count() == 1
    assert client.get(_dashboard_url(org_a.org)).status_code == 200


@pytest.mark.django_db
def test_the_link_works_once(org_a):
    _invitation, token = _invite(org_a)
    assert _anon().post(_accept_url(token), _new_account_data()).status_code == 302

    for response in (
        _anon().get(_accept_url(token)),
        _anon().post(_accept_url(token), _new_account_data("other-pass-phrase-88")),
    ):
        assert response.status_code == 404
        assert INVALID_LINK_TEXT in response.content.decode()
    assert User.objects.filter(email=INVITEE).count() == 1
    assert OrgMembership.objects.for_org(org_a.org).filter(user__email=INVITEE).count() == 1
    with pytest.raises(ValidationError):
        invitation_accept(token=token, full_name="x", password=NEW_PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["no-such-token", "x" * 150])
def test_unknown_token_is_404(db, token):
    response = _anon().get(_accept_url(token))
    assert response.status_code == 404
    assert INVALID_LINK_TEXT in response.content.decode()


@pytest.mark.django_db
def test_expired_invitation_is_404(org_a):
    invitation, token = _invite(org_a)
    Invitation.objects.for_org(org_a.org).filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    assert _anon().get(_accept_url(token)).status_code == 404
    response = _anon().post(_accept_url(token), _new_account_data())
    assert response.status_code == 404
    assert INVALID_LINK_TEXT in response.content.decode()
    assert not User.objects.filter(email=INVITEE).exists()
    with pytest.raises(ValidationError):
        invitation_accept(token=token, full_name="x", password=NEW_PASSWORD)


@pytest.mark.django_db
def test_revoked_invitation_is_404(org_a):
    invitation, token = _invite(org_a)
    invitation_revoke(actor=org_a.actor(), invitation=invitation)
    assert _anon().get(_accept_url(token)).status_code == 404
    response = _anon().post(_accept_url(token), _new_account_data())
    assert response.status_code == 404
    assert INVALID_LINK_TEXT in response.content.decode()
    assert not User.objects.filter(email=INVITEE).exists()


@pytest.mark.django_db
def test_signed_in_user_with_another_email_cannot_use_the_link(org_a):
    invitation, token = _invite(org_a)
    client = _signed_in(org_a, org_a.outsider)
    response = client.post(_accept_url(token))
    assert response.status_code == 400
    assert any(INVITEE in m for m in _messages(response))
    assert not OrgMembership.objects.for_org(org_a.org).filter(user=org_a.outsider).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert client.get(_dashboard_url(org_a.org)).status_code == 404


@pytest.mark.django_db
def test_signed_in_user_with_the_invited_email_joins(org_a, org_b):
    # Someone who already has an account (here: owner of org B) joins org A as themselves.
    _invitation, token = _invite(org_a, email=org_b.owner.email, role=OrgRole.MANAGER)
    client = _signed_in(org_b, org_b.owner)
    assert client.get(_accept_url(token)).status_code == 200
    response = client.post(_accept_url(token))
    assert response.status_code == 302
    assert response["Location"] == _dashboard_url(org_a.org)
    assert _membership(org_a, org_b.owner).role == OrgRole.MANAGER
    assert _membership(org_b, org_b.owner).role == OrgRole.OWNER  # untouched
    assert client.get(_dashboard_url(org_a.org)).status_code == 200


@pytest.mark.django_db
def test_existing_account_must_sign_in_first(org_a):
    _invitation, token = _invite(org_a, email=org_a.outsider.email)
    response = _anon().post(_accept_url(token), _new_account_data())
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    org_a.outsider.refresh_from_db()
    assert org_a.outsider.check_password(TEST_PASSWORD)  # no takeover through the link
    assert not OrgMembership.objects.for_org(org_a.org).filter(user=org_a.outsider).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        _new_account_data("123"),
        _new_account_data("password"),
        {"full_name": "x", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"},
        {"full_name": "x", "new_password1": "", "new_password2": ""},
    ],
    ids=["short-numeric", "common", "mismatch", "empty"],
)
def test_weak_or_mismatched_password_creates_nothing(org_a, data):
    invitation, token = _invite(org_a)
    client = _anon()
    response = client.post(_accept_url(token), data)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not User.objects.filter(email=INVITEE).exists()
    assert SESSION_KEY not in client.session
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    # The link still works afterwards.
    assert client.post(_accept_url(token), _new_account_data()).status_code == 302


@pytest.mark.django_db
def test_reinvited_deactivated_member_is_reactivated_with_the_new_role(org_a):
    membership = _membership(org_a, org_a.deputy)
    membership_set_active(actor=org_a.actor(), membership=membership, active=False)
    _invitation, token = _invite(org_a, email=org_a.deputy.email, role=OrgRole.ANALYST)
    response = _signed_in(org_a, org_a.deputy).post(_accept_url(token))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_active and membership.role == OrgRole.ANALYST
    assert membership.deactivated_at is None


# --- Concurrency ----------------------------------------------------------------------------


def _run_in_parallel(*jobs, while_running=None):
    """Run each job in its own thread (own DB connection), released together by a barrier.
    `while_running` runs in the calling thread after the workers are started."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", job())
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    if while_running is not None:
        while_running()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


def _fresh_org(slug):
    org = organization_create(
        name=f"并发 {slug}",
        slug=slug,
        owner_email=f"owner@{slug}.example.com",
        owner_password=TEST_PASSWORD,
    )
    owner = OrgMembership.objects.for_org(org).get(role=OrgRole.OWNER)
    return org, owner


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_accepts_exactly_one_wins():
    org, owner = _fresh_org("race-accept")
    _invitation, token = invitation_create(
        actor=Actor.for_user(owner), email=INVITEE, role=OrgRole.MANAGER
    )

    def accept():
        return invitation_accept(token=token, full_name="并发", password=NEW_PASSWORD).pk

    results = _run_in_parallel(accept, accept)

    outcomes = sorted(kind for kind, _value in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, ValidationError), repr(error)
    assert User.objects.filter(email=INVITEE).count() == 1
    memberships = OrgMembership.objects.for_org(org).filter(user__email=INVITEE)
    assert memberships.count() == 1
    assert memberships.get().role == OrgRole.MANAGER
    assert AuditLogEntry.objects.for_org(org).filter(action="team.join").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["demote", "deactivate"])
def test_two_owners_removing_each_other_at_once_leave_an_owner(action):
    """Owners A and B demote (or deactivate) each other at the same moment.

    Each transaction locks only its target row and counts owners before the other commits,
    so both can see "two owners" and both go ahead. The audit table is held briefly so that
    both reach the point after their check before either commits: a deterministic interleaving.
    """
    org, first = _fresh_org(f"race-{action}")
    second_user = UserFactory(email=f"second@race-{action}.example.com")
    second = OrgMembership.objects.create(organization=org, user=second_user, role=OrgRole.OWNER)

    def remove(actor_membership, target):
        def job():
            actor = Actor.for_user(actor_membership)
            if action == "demote":
                membership_change_role(actor=actor, membership=target, role=OrgRole.MANAGER)
            else:
                membership_set_active(actor=actor, membership=target, active=False)

        return job

    table = AuditLogEntry._meta.db_table
    holder = connections.create_connection("default")

    def release_when_both_wait():
        # Both workers are blocked on a lock (both on the audit table; or, once the service
        # serializes owner changes, one of them on that lock instead): let them go on.
        deadline = time.monotonic() + 5
        with connection.cursor() as probe:
            while time.monotonic() < deadline:
                probe.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if probe.fetchone()[0] >= 2:
                    break
                time.sleep(0.02)
        holder.rollback()

    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        results = _run_in_parallel(
            remove(first, second), remove(second, first), while_running=release_when_both_wait
        )
    finally:
        holder.close()

    active_owners = OrgMembership.objects.for_org(org).filter(role=OrgRole.OWNER, is_active=True)
    assert active_owners.count() >= 1, results
    assert sorted(kind for kind, _v in results) == ["error", "ok"], results


# --- Roles and deactivation -------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_changes_a_members_role(org_a):
    membership = _membership(org_a, org_a.deputy)
    client = _signed_in(org_a, org_a.owner)
    response = client.post(_member_action_url(org_a, membership, "role"), {"role": "manager"})
    assert response.status_code == 302
    assert response["Location"] == _team_url(org_a)
    membership.refresh_from_db()
    assert membership.role == OrgRole.MANAGER
    entry = _audit(org_a, "team.role_change").get()
    assert entry.changes == {"role": ["staff", "manager"]}
    assert entry.actor_user == org_a.owner


@pytest.mark.django_db
def test_invalid_role_is_an_error_message(org_a):
    membership = _membership(org_a, org_a.deputy)
    response = _signed_in(org_a, org_a.owner).post(
        _member_action_url(org_a, membership, "role"), {"role": "emperor"}, follow=True
    )
    assert response.status_code == 200
    assert "Choose a valid role." in _messages(response)
    membership.refresh_from_db()
    assert membership.role == OrgRole.STAFF


@pytest.mark.django_db
def test_the_last_owner_cannot_be_demoted(org_a):
    membership = _membership(org_a, org_a.owner)
    client = _signed_in(org_a, org_a.owner)
    response = client.post(
        _member_action_url(org_a, membership, "role"), {"role": "manager"}, follow=True
    )
    assert response.status_code == 200
    assert "An organization needs at least one owner." in _messages(response)
    membership.refresh_from_db()
    assert membership.role == OrgRole.OWNER
    assert not _audit(org_a, "team.role_change").exists()


@pytest.mark.django_db
def test_the_last_owner_cannot_be_deactivated(org_a):
    membership = _membership(org_a, org_a.owner)
    response = _signed_in(org_a, org_a.owner).post(
        _member_action_url(org_a, membership, "deactivate"), follow=True
    )
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in _messages(response)
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_set_active(
            actor=Actor.system(org_a.org, "ops"), membership=membership, active=False
        )
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_change_role(
            actor=Actor.system(org_a.org, "ops"), membership=membership, role=OrgRole.MANAGER
        )
    membership.refresh_from_db()
    assert membership.is_active and membership.role == OrgRole.OWNER


@pytest.mark.django_db
def test_one_of_two_owners_can_be_demoted(org_a):
    second = UserFactory()
    OrgMembership.objects.create(organization=org_a.org, user=second, role=OrgRole.OWNER)
    membership = _membership(org_a, org_a.owner)
    client = _signed_in(org_a, org_a.owner)
    client.post(_member_action_url(org_a, membership, "role"), {"role": "manager"})
    membership.refresh_from_db()
    assert membership.role == OrgRole.MANAGER


@pytest.mark.django_db
def test_deactivated_member_loses_access_and_reactivation_restores_it(org_a):
    membership = _membership(org_a, org_a.deputy)
    owner = _signed_in(org_a, org_a.owner)
    deputy = _signed_in(org_a, org_a.deputy)
    assert deputy.get(_dashboard_url(org_a.org)).status_code == 200

    assert owner.post(_member_action_url(org_a, membership, "deactivate")).status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active and membership.deactivated_at is not None
    assert _audit(org_a, "team.deactivate").count() == 1
    assert deputy.get(_dashboard_url(org_a.org)).status_code == 404
    # A deactivated person does not count as a member: they can be invited again.
    invitation, _token = _invite(org_a, email=org_a.deputy.email)
    assert invitation.status == "pending"

    assert owner.post(_member_action_url(org_a, membership, "reactivate")).status_code == 302
    membership.refresh_from_db()
    assert membership.is_active and membership.deactivated_at is None
    assert _audit(org_a, "team.reactivate").count() == 1
    assert deputy.get(_dashboard_url(org_a.org)).status_code == 200


@pytest.mark.django_db
def test_manager_cannot_change_or_deactivate_an_owner(org_a):
    membership = _membership(org_a, org_a.owner)
    client = _signed_in(org_a, org_a.manager)
    response = client.post(
        _member_action_url(org_a, membership, "role"), {"role": "analyst"}, follow=True
    )
    assert "Only an owner can change another owner." in _messages(response)
    response = client.post(_member_action_url(org_a, membership, "deactivate"), follow=True)
    assert "Only an owner can change another owner." in _messages(response)
    membership.refresh_from_db()
    assert membership.role == OrgRole.OWNER and membership.is_active


@pytest.mark.django_db
def test_manager_cannot_promote_anyone_to_owner(org_a):
    membership = _membership(org_a, org_a.deputy)
    response = _signed_in(org_a, org_a.manager).post(
        _member_action_url(org_a, membership, "role"), {"role": "owner"}, follow=True
    )
    assert "Only an owner can make someone an owner." in _messages(response)
    membership.refresh_from_db()
    assert membership.role == OrgRole.STAFF


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["analyst", "deputy"])
@pytest.mark.parametrize("action", ["role", "deactivate", "reactivate"])
def test_non_managers_cannot_act_on_members(org_a, who, action):
    membership = _membership(org_a, org_a.manager)
    response = _signed_in(org_a, getattr(org_a, who)).post(
        _member_action_url(org_a, membership, action), {"role": "staff"}
    )
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == OrgRole.MANAGER and membership.is_active


@pytest.mark.django_db
def test_member_of_another_org_is_404(org_a, org_b):
    membership = _membership(org_b, org_b.deputy)
    response = _signed_in(org_a, org_a.owner).post(
        _member_action_url(org_a, membership, "deactivate")
    )
    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.is_active
