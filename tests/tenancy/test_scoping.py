import pytest
from django.db import connection

from tenancy.api_base import TenantViewSet
from tenancy.models import ApiKey, AuditLogEntry, OrgMembership
from tenancy.scope import TenantScopeError, current_org, org_scope

from ..factories import AuditLogEntryFactory


def test_query_without_scope_raises(org_a):
    with pytest.raises(TenantScopeError):
        list(OrgMembership.objects.all())
    with pytest.raises(TenantScopeError):
        OrgMembership.objects.filter(role="owner").exists()
    with pytest.raises(TenantScopeError):
        OrgMembership.objects.for_org(None)


def test_for_org_returns_only_that_orgs_rows(org_a, org_b):
    emails = set(OrgMembership.objects.for_org(org_a.org).values_list("user__email", flat=True))
    assert emails == {f"{r}-a@example.com" for r in ("owner", "manager", "analyst", "deputy")}


def test_scope_context_filters_default_queries(org_a, org_b):
    with org_scope(org_b.org):
        assert current_org() == org_b.org
        assert set(ApiKey.objects.values_list("organization_id", flat=True)) == {org_b.org.pk}
    assert current_org() is None


def test_related_managers_through_a_non_tenant_parent_need_the_scope(org_a, org_b):
    from ..factories import OrgMembershipFactory

    user = org_a.owner
    OrgMembershipFactory(organization=org_b.org, user=user)
    with pytest.raises(TenantScopeError):
        list(user.org_memberships.all())
    with org_scope(org_b.org):
        assert [m.organization_id for m in user.org_memberships.all()] == [org_b.org.pk]


def test_unscoped_is_explicit(org_a, org_b):
    # no TenantScopeError; on PostgreSQL row-level security still shows only the org in scope
    counts = []
    for tenant in (org_a, org_b):
        with org_scope(tenant.org):
            counts.append(ApiKey.objects.unscoped().count())
    assert counts == ([1, 1] if connection.vendor == "postgresql" else [2, 2])


def test_create_requires_an_organization(db):
    with pytest.raises(TenantScopeError):
        AuditLogEntry.objects.create(actor_label="x", action="y")


def test_none_needs_no_scope(db):
    assert list(AuditLogEntry.objects.none()) == []


def test_viewsets_cannot_override_scoping():
    with pytest.raises(TypeError, match="refine_queryset"):

        class Leaky(TenantViewSet):  # noqa: F841
            def get_queryset(self):
                return AuditLogEntry.objects.unscoped()


def test_unscoped_calls_are_rare_and_reviewed():
    """Every `.unscoped()` outside tests is listed here; a new one must be added on purpose."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    found = {}
    for path in root.glob("*/**/*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".venv/", "tests/", "var/")):
            continue
        count = len(re.findall(r"\.unscoped\(\)", path.read_text(encoding="utf-8")))
        if count:
            found[rel] = count
    assert found == {
        "tenancy/admin.py": 1,  # platform admin sees every org
        "tenancy/context_processors.py": 1,  # the user's own memberships, for the switcher
        "tenancy/managers.py": 1,  # the docstring that documents it
        "tenancy/middleware.py": 1,  # resolving the org from the URL, filtered by the user
        "tenancy/services.py": 2,  # API key lookup by prefix, invitation lookup by token
        "tenancy/views.py": 1,  # home redirect: the user's own memberships
        "tenancy/api_base.py": 1,  # schema generation's empty queryset
        "metrics/tasks.py": 1,  # which organizations have rollup marks to refresh (ids only)
        "config/monitoring.py": 3,  # /metrics: totals over every organization, none named
        "connectors/telegram/polling.py": 1,  # which organizations have a Telegram connection
    }


def test_audit_entries_of_one_org_only(org_a, org_b):
    AuditLogEntryFactory(organization=org_b.org)
    assert all(e.organization_id == org_a.org.pk for e in AuditLogEntry.objects.for_org(org_a.org))
