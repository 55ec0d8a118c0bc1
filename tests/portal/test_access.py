"""Personal links and member sessions: single use, expiry, revocation, one organization."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from members import access, privacy
from members.models import Block, MemberLink, MemberSession
from portal.session import COOKIE

from .conftest import make_member, page, signed_in

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return re.search(r"/l/([^/]+)/$", url).group(1)


def test_a_link_signs_the_member_in_and_opens_its_page(org_a, member):
    url = access.personal_link(member, "me/")
    assert url.startswith("http") and "/m/" + org_a.org.slug + "/l/" in url
    client = Client()
    response = client.get(page(org_a.org, "member-link", token=_token(url)))
    assert response.status_code == 302
    assert response["Location"] == page(org_a.org, "member-me")
    cookie = response.cookies[COOKIE]
    assert cookie["path"] == page(org_a.org, "member-home")
    assert cookie["httponly"]
    me = client.get(page(org_a.org, "member-me"))
    assert me.status_code == 200
    assert "小明" in me.content.decode()
    # only a hash of the token is stored
    assert not MemberLink.objects.for_org(org_a.org).filter(token_hash=_token(url)).exists()


def test_a_used_link_says_how_to_get_a_new_one(org_a, member):
    token = _token(access.personal_link(member, "me/"))
    Client().get(page(org_a.org, "member-link", token=token))
    second = Client().get(page(org_a.org, "member-link", token=token))
    assert second.status_code == 410
    body = second.content.decode()
    assert "已被使用" in body
    assert "我的" in body
    assert COOKIE not in second.cookies


def test_the_same_phone_opening_its_link_again_just_goes_on(org_a, member):
    token = _token(access.personal_link(member, "me/"))
    client = Client()
    client.get(page(org_a.org, "member-link", token=token))
    again = client.get(page(org_a.org, "member-link", token=token))
    assert again.status_code == 302


def test_an_expired_link_is_refused(org_a, member):
    token = _token(access.personal_link(member, "me/"))
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        response = Client().get(page(org_a.org, "member-link", token=token))
    assert response.status_code == 410
    assert "已过期" in response.content.decode()


def test_an_unknown_or_foreign_token_is_a_404(org_a, org_b, group):
    from communities import services as community_services

    b_group = community_services.community_create(actor=org_b.actor(), name="B 群")
    b_member = make_member(org_b.org, b_group, "外人")
    token = _token(access.personal_link(b_member, "me/"))
    assert Client().get(page(org_a.org, "member-link", token="nope")).status_code == 404
    # org B's link on org A's address: unknown there
    assert Client().get(page(org_a.org, "member-link", token=token)).status_code == 404
    assert MemberLink.objects.for_org(org_b.org).get().used_at is None


def test_blocking_revokes_links_and_sessions(org_a, member):
    token = _token(access.personal_link(member, "me/"))
    client = signed_in(member)
    assert client.get(page(org_a.org, "member-me")).status_code == 200
    from members.models import Membership
    from members.services import member_remove

    membership = Membership.objects.for_org(org_a.org).get(member=member)
    member_remove(actor=org_a.actor(), membership=membership, reason="广告", block=True)
    assert Block.objects.for_org(org_a.org).filter(member=member).exists()
    assert client.get(page(org_a.org, "member-me")).status_code == 302  # to the sign-in help
    assert Client().get(page(org_a.org, "member-link", token=token)).status_code == 410
    assert access.personal_link(member, "me/") == ""


def test_erasure_revokes_sessions(org_a, member):
    client = signed_in(member)
    privacy.member_erase(actor=org_a.actor(), member=member)
    assert client.get(page(org_a.org, "member-me")).status_code == 302
    assert not MemberSession.objects.for_org(org_a.org).filter(revoked_at=None).exists()


def test_a_merged_members_session_no_longer_signs_in(org_a, group, member):
    """The same person on two platforms: once their identity moves to the other member, the
    old member (kept, merged) has no orders and must not act; their phone signs in anew."""
    from members.models import MemberIdentity
    from members.services import identity_link

    client = signed_in(member)
    other = make_member(org_a.org, group, "小明的企业微信", platform="wecom")
    identity = MemberIdentity.objects.for_org(org_a.org).get(member=member)
    identity_link(actor=org_a.actor(), identity=identity, to_member=other)
    response = client.get(page(org_a.org, "member-me"))
    assert response.status_code == 302
    assert response["Location"] == page(org_a.org, "member-signin")


def test_a_session_is_one_organizations(org_a, org_b, member):
    """Org A's session key sent to org B's pages signs nobody in there."""
    key = access.start_session(member, "link")
    client = Client()
    client.cookies[COOKIE] = key
    response = client.get(page(org_b.org, "member-me"))
    assert response.status_code == 302
    assert response["Location"] == page(org_b.org, "member-signin")


def test_signing_out_ends_the_session(org_a, member):
    client = signed_in(member)
    client.post(page(org_a.org, "member-signout"))
    assert client.get(page(org_a.org, "member-me")).status_code == 302
