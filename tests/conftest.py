"""Fixtures shared by the suite: two organizations, each with one person per role.

`org_a` and `org_b` are `Tenant` bundles: `.org`, `.owner`, `.manager`, `.analyst`,
`.deputy` (staff), `.outsider` (a user in no organization), `.api_key` (+ `.raw_key`).
"""

import os
import shutil
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client

from tenancy.actors import Actor
from tenancy.roles import OrgRole
from tenancy.services import api_key_create

from .factories import OrganizationFactory, OrgMembershipFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _missing_service(item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL (DATABASE_URL is not PostgreSQL)"
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        return "needs Redis (REDIS_URL is not set)"
    if item.get_closest_marker("e2e") and not shutil.which(CHROMIUM):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    if item.get_closest_marker("pgbouncer") and not (
        shutil.which("pgbouncer") or os.path.exists("/usr/sbin/pgbouncer")
    ):
        return "needs PgBouncer (apt-get install pgbouncer)"
    if item.get_closest_marker("cjk_font"):
        from core import posters

        if not posters.has_cjk_font():
            return "needs a font covering Chinese (apt-get install fonts-wqy-microhei)"
    return None


def pytest_runtest_setup(item):
    reason = _missing_service(item)
    if reason is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _pinned_language():
    """Every test starts in settings.TEST_LANGUAGE (zh-hans) and leaves no language behind:
    requests and services activate languages on the thread and never reset them, so without
    this a test's language would depend on which tests ran before it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.TEST_LANGUAGE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and other cached state do not leak between tests."""
    from django.core.cache import cache

    from core import local_memo, ratelimit

    cache.clear()
    local_memo.clear_all()
    ratelimit.reset_all()
    yield
    cache.clear()
    local_memo.clear_all()
    ratelimit.reset_all()


PUBLIC_TEST_ADDRESS = "93.184.215.14"  # a public address; nothing is ever sent to it


@pytest.fixture(autouse=True)
def _hermetic_dns(monkeypatch):
    """Webhook hosts are resolved (integrations/netguard.py), never through a DNS server in
    tests: the documentation domains (bot.example.com …) resolve to a public address, IP
    literals in any form (127.1, 0x7f.1, 2130706433, ::1) and localhost go to the system
    resolver, which answers them without the network; any other name does not resolve."""
    import socket

    from integrations import netguard

    real = netguard.getaddrinfo

    def _literal(host):
        if host == "localhost" or ":" in host:
            return True
        try:
            socket.inet_aton(host)
        except OSError:
            return False
        return True

    def resolve(host, port):
        if host.rstrip(".").endswith(("example.com", "example.org", "example.net")):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_TEST_ADDRESS, port))]
        if _literal(host):
            return real(host, port)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard, "getaddrinfo", resolve)


@dataclass
class Tenant:
    org: object
    owner: object
    manager: object
    analyst: object
    deputy: object
    outsider: object
    api_key: object
    raw_key: str

    def actor(self, user=None):
        from tenancy.models import OrgMembership

        membership = OrgMembership.objects.for_org(self.org).get(user=user or self.owner)
        return Actor.for_user(membership)

    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def api_client(self, raw_key: str | None = None) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw_key or self.raw_key}")


def _make_tenant(label: str) -> Tenant:
    org = OrganizationFactory(slug=f"org-{label}", name=f"组织{label.upper()}")
    people = {}
    for role_name, role in [
        ("owner", OrgRole.OWNER),
        ("manager", OrgRole.MANAGER),
        ("analyst", OrgRole.ANALYST),
        ("deputy", OrgRole.STAFF),
    ]:
        user = UserFactory(email=f"{role_name}-{label}@example.com")
        OrgMembershipFactory(organization=org, user=user, role=role)
        people[role_name] = user
    outsider = UserFactory(email=f"outsider-{label}@example.com")
    key, raw = api_key_create(actor=Actor.system(org, "tests"), name=f"bot {label}")
    return Tenant(org=org, outsider=outsider, api_key=key, raw_key=raw, **people)


@pytest.fixture
def org_a(db) -> Tenant:
    return _make_tenant("a")


@pytest.fixture
def org_b(db) -> Tenant:
    return _make_tenant("b")
