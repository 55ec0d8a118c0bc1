"""Row-level security, the second wall: every tenant table has the policy, and a deliberately
unscoped query made in a request of org A sees none of org B's rows.

The suite connects as the `postgres` superuser, which always bypasses RLS; these tests switch
to a plain role (no superuser, no BYPASSRLS) inside the test's transaction with SET ROLE."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from members.models import Member
from tenancy import rls
from tenancy.models import AuditLogEntry, TenantModel
from tenancy.scope import org_scope
from tests.factories import AuditLogEntryFactory, MembershipFactory

pytestmark = pytest.mark.postgres


def _tenant_models():
    return [
        m
        for m in apps.get_models()
        if issubclass(m, TenantModel) and m._meta.managed and not m._meta.proxy
    ]


def test_tenant_models_are_found_the_same_way_the_migration_finds_them():
    assert len(_tenant_models()) >= 30
    assert {m._meta.db_table for m in _tenant_models()} == set(rls.tenant_tables(apps.get_models()))


def test_every_tenant_table_has_forced_rls_and_the_policy(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.qual, p.with_check "
            "FROM pg_class c LEFT JOIN pg_policies p "
            "  ON p.tablename = c.relname AND p.policyname = %s "
            "WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace",
            [rls.POLICY],
        )
        state = {row[0]: row[1:] for row in cursor.fetchall()}
    missing = []
    for model in _tenant_models():
        table = model._meta.db_table
        enabled, forced, qual, check = state.get(table, (False, False, None, None))
        if not (enabled and forced and qual and check and rls.SETTING in qual):
            missing.append(f"{model._meta.label} ({table})")
    assert not missing, (
        "tenant tables without row-level security; add `*enable_rls_operations(app_label)` "
        "from tenancy.rls to the app's migration:\n" + "\n".join(missing)
    )


@pytest.fixture
def plain_role(db):
    """A role like the app's production one: no superuser, no BYPASSRLS. Created inside the
    test's transaction (rolled back with it) and switched to with SET ROLE."""
    name = f"{connection.settings_dict['NAME']}_rls_probe"[:63]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE ROLE "{name}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
        cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{name}"')
        cursor.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{name}"')
        cursor.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
        cursor.execute(f'SET ROLE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def _two_orgs(org_a, org_b):
    for tenant in (org_a, org_b):
        membership = MembershipFactory(organization=tenant.org)
        Member.objects.for_org(tenant.org).filter(pk=membership.member_id).update(
            display_name=f"MEMBER-OF-{tenant.org.slug}"
        )
        AuditLogEntryFactory(organization=tenant.org, summary=f"AUDIT-OF-{tenant.org.slug}")


def test_unscoped_query_in_a_request_of_org_a_sees_none_of_org_b(
    org_a, org_b, plain_role, monkeypatch
):
    _two_orgs(org_a, org_b)
    import members.views

    # The bug RLS is there for: a page that forgets the organization filter.
    monkeypatch.setattr(
        members.views,
        "search_members",
        lambda actor, params: Member.objects.unscoped().order_by("-pk"),
    )
    client = org_a.client_for(org_a.owner)
    page = client.get(reverse("members", kwargs={"org_slug": org_a.org.slug}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "MEMBER-OF-org-a" in html, html[html.find("<tbody") : html.find("</tbody")]
    assert "MEMBER-OF-org-b" not in html


def test_in_scope_every_tenant_table_hides_the_other_org_and_refuses_its_rows(
    org_a, org_b, plain_role
):
    _two_orgs(org_a, org_b)
    with org_scope(org_a.org):
        for model in _tenant_models():
            assert not model.objects.unscoped().filter(organization=org_b.org).exists(), model
        assert Member.objects.unscoped().filter(organization=org_a.org).exists()
        assert AuditLogEntry.objects.unscoped().count() == (
            AuditLogEntry.objects.for_org(org_a.org).count()
        )
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            AuditLogEntry.objects.create(organization=org_b.org, actor_label="x", action="x")


def test_system_work_sees_every_org_and_an_unset_setting_sees_nothing(org_a, org_b, plain_role):
    _two_orgs(org_a, org_b)
    # No organization in scope: BYPASS (fan_out, migrations, resolving an API key's org).
    assert {m.organization_id for m in Member.objects.unscoped()} >= {org_a.org.pk, org_b.org.pk}
    # Another client of the same role that sets nothing sees no tenant rows.
    with connection.connection.cursor() as raw:  # around the scope wrapper on purpose
        raw.execute("SELECT set_config(%s, '', false)", [rls.SETTING])
        raw.execute("SELECT count(*) FROM members_member")
        assert raw.fetchone()[0] == 0
    connection.rls_value = None


def test_the_setting_follows_the_scope_and_survives_rollbacks(org_a, org_b, plain_role):
    _two_orgs(org_a, org_b)

    def visible_orgs():
        return set(Member.objects.unscoped().values_list("organization_id", flat=True))

    with org_scope(org_a.org):
        assert visible_orgs() == {org_a.org.pk}
        with pytest.raises(RuntimeError), transaction.atomic():
            with org_scope(org_b.org):
                assert visible_orgs() == {org_b.org.pk}
            raise RuntimeError  # rolls the savepoint (and the setting made in it) back
        assert visible_orgs() == {org_a.org.pk}
    assert visible_orgs() >= {org_a.org.pk, org_b.org.pk}


def test_a_tenant_task_runs_with_its_org_set(org_a, org_b, plain_role):
    from tenancy.tasks import tenant_task

    @tenant_task
    def count_members(org):
        return sorted(set(Member.objects.unscoped().values_list("organization_id", flat=True)))

    _two_orgs(org_a, org_b)
    assert count_members(org_b.org.pk) == [org_b.org.pk]
