"""Row-level security, the second wall: every tenant table has the policy, and a deliberately
unscoped query made in a request of org A sees none of org B's rows.

The suite connects as a plain role (no superuser, no BYPASSRLS; scripts/services.py creates it),
like the application in production; `plain_role` makes sure of it. There is no bypass value:
system work across organizations runs on the `system` alias (tests/tenancy/test_system_role.py).
"""

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
            "WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace",
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
    """The suite's own connection is the application's plain role (scripts/services.py)."""
    from tenancy.checks import role_of

    name, superuser, bypass = role_of("default")
    assert not superuser and not bypass, f"the suite connects as {name}, which bypasses RLS"
    return name


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


def test_there_is_no_bypass_value_and_an_unset_setting_sees_nothing(org_a, org_b, plain_role):
    _two_orgs(org_a, org_b)
    # no organization in scope and none named: nothing (before: every organization)
    assert not Member.objects.unscoped().exists()
    assert not AuditLogEntry.objects.unscoped().exists()
    with connection.connection.cursor() as raw:  # around the scope wrapper on purpose
        for value in ("0", "", "-1"):
            # what the old bypass value was, and other attempts: a session of the app's role
            # cannot see across organizations whatever it sets
            raw.execute("SELECT set_config(%s, %s, false)", [rls.SETTING, value])
            raw.execute("SELECT count(*) FROM members_member")
            assert raw.fetchone()[0] == 0, value
        raw.execute("SELECT set_config(%s, %s, false)", [rls.SETTING, str(org_a.org.pk)])
        raw.execute("SELECT DISTINCT organization_id FROM members_member")
        assert raw.fetchall() == [(org_a.org.pk,)]
    connection.rls_value = None


def test_outside_a_scope_a_query_that_names_its_organization_sees_that_one(
    org_a, org_b, plain_role
):
    _two_orgs(org_a, org_b)
    ids = set(Member.objects.for_org(org_a.org).values_list("organization_id", flat=True))
    assert ids == {org_a.org.pk}
    assert Member.objects.for_org(org_b.org).count() == Member.objects.for_org(org_b.org).count()
    assert Member.objects.for_org(org_b.org).exists()
    member = Member.objects.for_org(org_b.org).first()
    membership = member.memberships.first()  # a related manager names its parent's org
    assert membership.member == member  # a foreign key, through the base manager
    member.display_name = "renamed"
    member.save()  # the row's own update
    member.refresh_from_db()
    assert member.display_name == "renamed"
    # inside org A's scope the scope decides: org B's rows stay hidden even when named
    with org_scope(org_a.org):
        assert not Member.objects.for_org(org_b.org).exists()
        assert Member.objects.for_org(org_a.org).exists()


def test_lookups_show_only_the_row_the_key_names(org_a, org_b, plain_role):
    from tenancy.models import ApiKey, OrgMembership

    assert not ApiKey.objects.unscoped().exists()
    with rls.lookup("apikey", org_a.api_key.prefix):
        assert list(ApiKey.objects.unscoped()) == [org_a.api_key]
    with rls.lookup("user", org_b.owner.pk):
        found = list(OrgMembership.objects.unscoped())
    assert [(m.organization_id, m.user_id) for m in found] == [(org_b.org.pk, org_b.owner.pk)]
    with rls.lookup("user", org_b.owner.pk):
        # SELECT only: the lookup does not open the row to writes
        assert OrgMembership.objects.unscoped().filter(pk=found[0].pk).update(role="analyst") == 0


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
    assert visible_orgs() == set()  # out of the scope again: nothing


def test_a_tenant_task_runs_with_its_org_set(org_a, org_b, plain_role):
    from tenancy.tasks import tenant_task

    @tenant_task
    def count_members(org):
        return sorted(set(Member.objects.unscoped().values_list("organization_id", flat=True)))

    _two_orgs(org_a, org_b)
    assert count_members(org_b.org.pk) == [org_b.org.pk]
