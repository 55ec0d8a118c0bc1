import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tenancy.models import ApiKey, AuditLogEntry, Organization, OrgMembership, User
from tenancy.scope import org_scope
from tenancy.services import api_key_authenticate


def test_create_org_and_api_key(db):
    out = StringIO()
    call_command(
        "create_org",
        name="测试品牌",
        slug="brand",
        owner_email="Boss@Example.com",
        owner_password="a-long-enough-pass-42",
        stdout=out,
    )
    org = Organization.objects.get(slug="brand")
    user = User.objects.get(email="boss@example.com")
    assert user.check_password("a-long-enough-pass-42")
    assert OrgMembership.objects.for_org(org).get(user=user).role == "owner"
    assert AuditLogEntry.objects.for_org(org).filter(action="org.create").exists()

    out = StringIO()
    call_command("create_api_key", org="brand", name="bot", role="analyst", stdout=out)
    raw = out.getvalue().strip()
    assert "\n" not in raw and raw.startswith("qy_")
    key = api_key_authenticate(raw)
    assert key.organization == org and key.role == "analyst"
    assert ApiKey.objects.for_org(org).count() == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"slug": "Bad Slug!"},
        {"owner_email": "not-an-email"},
        {"time_zone": "Nowhere/Land"},
        {"owner_password": "123"},
    ],
)
def test_create_org_rejects_bad_input_without_partial_writes(db, kwargs):
    args = {
        "name": "品牌",
        "slug": "brand",
        "owner_email": "boss@example.com",
        "owner_password": "a-long-enough-pass-42",
        **kwargs,
    }
    with pytest.raises(CommandError):
        call_command("create_org", **args, stdout=StringIO())
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_create_org_duplicate_slug(db):
    call_command("create_org", name="A", slug="dup", owner_email="a@example.com", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command(
            "create_org", name="B", slug="dup", owner_email="b@example.com", stdout=StringIO()
        )
    assert Organization.objects.count() == 1
    assert not User.objects.filter(email="b@example.com").exists()


def test_create_api_key_unknown_org(db):
    with pytest.raises(CommandError):
        call_command("create_api_key", org="nope", name="x", stdout=StringIO())


def test_seed_demo_is_idempotent_and_realistic(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    assert Organization.objects.count() == 2
    health = Organization.objects.get(slug="jiankang")
    assert "健康" in health.name
    with org_scope(health):
        roles = dict(OrgMembership.objects.values_list("user__email", "role"))
    assert roles["owner@demo.qunyun.cn"] == "owner"
    assert roles["deputy@demo.qunyun.cn"] == "staff"
    printed = out.getvalue()
    assert "owner@demo.qunyun.cn" in printed and "deputy@demo.qunyun.cn" in printed
    assert health.payment_instructions.startswith("请在付款截止前转账到团长微信")


def _printed_link(printed: str, site_url: str) -> str:
    links = re.findall(re.escape(site_url) + r"(/m/jiankang/l/[\w-]+/)", printed)
    assert len(links) == 1, printed
    return links[0]


def test_seed_demo_prints_a_personal_link_that_opens_a_members_page(db, settings):
    """Each run prints a new single-use link to a member of the deputy's group."""
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    links = [_printed_link(out.getvalue(), settings.SITE_URL) for out in (first, second)]
    assert links[0] != links[1]
    client = Client()
    response = client.get(links[0])
    assert response.status_code == 302 and response["Location"] == "/m/jiankang/me/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "健康优选·全国综合1群" in page.content.decode()
    assert client.get(links[0]).status_code == 302  # used, but this phone is signed in
    assert Client().get(links[0]).status_code == 410  # used, on another phone
    assert Client().get(links[1]).status_code == 302
