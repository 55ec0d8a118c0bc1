"""Telegram Mini App openings: initData checked with the organization's bot token."""

import json
import time

import pytest
from django.test import Client

from communities import services as community_services
from integrations import telegram_webapp
from integrations.models import BotCredential
from integrations.telegram_webapp import InitDataRefused, sign_init_data, verify_init_data
from members.models import Membership, RawEvent

from .conftest import make_member, page

pytestmark = pytest.mark.django_db
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _init_data(user_id=4242, auth_date=None, token=TOKEN, start_param=None):
    fields = {
        "auth_date": str(int(auth_date if auth_date is not None else time.time())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": "小明"}, ensure_ascii=False),
    }
    if start_param is not None:
        fields["start_param"] = start_param
    return sign_init_data(fields, token)


def test_genuine_fresh_init_data_gives_the_user():
    user = verify_init_data(_init_data(), TOKEN, max_age=3600)
    assert user["id"] == 4242


def test_a_wrong_hash_is_refused():
    data = _init_data().replace("4242", "4243")
    with pytest.raises(InitDataRefused) as refused:
        verify_init_data(data, TOKEN, max_age=3600)
    assert refused.value.reason == "bad_hash"
    with pytest.raises(InitDataRefused):
        verify_init_data(_init_data(token="999:other-bot-token-xxxxxxxxxxxx"), TOKEN, max_age=3600)


def test_stale_auth_date_is_refused():
    with pytest.raises(InitDataRefused) as refused:
        verify_init_data(_init_data(auth_date=time.time() - 7200), TOKEN, max_age=3600)
    assert refused.value.reason == "stale"


@pytest.mark.parametrize("data", ["", "hash=", "a=%ZZ&&", "user=1&hash=abc"])
def test_malformed_init_data_is_refused(data):
    with pytest.raises(InitDataRefused):
        verify_init_data(data, TOKEN, max_age=3600)


@pytest.fixture
def telegram_member(org_a, group):
    telegram_webapp.telegram_token_set(actor=org_a.actor(), token=TOKEN)
    return make_member(org_a.org, group, "小明", platform="telegram", user_id="4242")


def test_the_token_is_stored_encrypted_and_shown_only_by_its_end(org_a, telegram_member):
    credential = BotCredential.objects.for_org(org_a.org).get()
    assert TOKEN not in credential.sealed_secret and credential.hint == TOKEN[-4:]
    assert telegram_webapp.bot_token(org_a.org) == TOKEN
    page_ = org_a.client_for(org_a.owner).get(f"/o/{org_a.org.slug}/telegram/")
    body = page_.content.decode()
    assert TOKEN[-4:] in body and TOKEN not in body
    assert "/m/org-a/tg/" in body


def test_a_mini_app_opening_signs_the_member_in(org_a, telegram_member):
    client = Client()
    response = client.post(page(org_a.org, "member-telegram-session"), {"init_data": _init_data()})
    assert response.status_code == 200
    assert response.json()["next"] == page(org_a.org, "member-me")
    assert client.get(page(org_a.org, "member-me")).status_code == 200


def test_a_forged_or_stale_opening_signs_nobody_in(org_a, telegram_member):
    client = Client()
    forged = _init_data(token="999:other-bot-token-xxxxxxxxxxxx")
    stale = _init_data(auth_date=time.time() - 7200)
    for data, reason in ((forged, "bad_hash"), (stale, "stale")):
        response = client.post(page(org_a.org, "member-telegram-session"), {"init_data": data})
        assert response.status_code == 403 and response.json()["error"] == reason
    assert client.get(page(org_a.org, "member-me")).status_code == 302


def test_an_unknown_telegram_user_or_another_orgs_bot_signs_nobody_in(
    org_a, org_b, telegram_member
):
    client = Client()
    unknown = client.post(
        page(org_a.org, "member-telegram-session"), {"init_data": _init_data(user_id=1)}
    )
    assert unknown.status_code == 404
    # org B has no bot token: its Mini App address does not exist
    other = client.post(page(org_b.org, "member-telegram-session"), {"init_data": _init_data()})
    assert other.status_code == 404


def _openings(org):
    return list(
        RawEvent.objects.for_org(org)
        .filter(type="member.opened_app")
        .order_by("community_id")
        .values_list("community_id", flat=True)
    )


def test_an_opening_is_an_event_of_the_group_the_link_names_once(org_a, group, telegram_member):
    other = community_services.community_create(actor=org_a.actor(), name="第二个群")
    identity = telegram_member.identities.get()
    Membership.objects.create(
        organization=org_a.org, community=other, member=telegram_member, identity=identity,
        status="active",
    )  # fmt: skip
    data = _init_data(start_param=f"g{other.pk}")
    for _again in range(2):  # the same initData sent twice is one opening
        response = Client().post(page(org_a.org, "member-telegram-session"), {"init_data": data})
        assert response.status_code == 200
    assert _openings(org_a.org) == [other.pk]
    there = Membership.objects.for_org(org_a.org).get(community=other)
    assert there.last_active_at is not None
    assert Membership.objects.for_org(org_a.org).get(community=group).last_active_at is None


def test_an_opening_without_a_group_counts_in_each_of_the_members_groups(
    org_a, group, telegram_member
):
    other = community_services.community_create(actor=org_a.actor(), name="第二个群")
    Membership.objects.create(
        organization=org_a.org, community=other, member=telegram_member,
        identity=telegram_member.identities.get(), status="active",
    )  # fmt: skip
    data = _init_data(start_param="not-a-group")
    Client().post(page(org_a.org, "member-telegram-session"), {"init_data": data})
    assert _openings(org_a.org) == sorted([group.pk, other.pk])
