"""The two database roles (issue 19, items 10 and 11): the application's role sees one
organization at a time and has no bypass value; the system role (the `system` alias, BYPASSRLS)
is what the cross-organization jobs read through; `check --deploy` refuses a superuser or
BYPASSRLS application role, and a system role without BYPASSRLS."""

import os
import re

import pytest
from django.core import checks
from django.db import connections

from members.models import Member
from tenancy import checks as role_checks
from tenancy.system import system_db
from tests.factories import MembershipFactory
from tests.tenancy.test_health_and_deploy import _check_deploy

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True, databases=["default", "system"])
def test_the_system_role_reads_every_organization_and_the_app_role_none_unscoped(org_a, org_b):
    for tenant in (org_a, org_b):
        MembershipFactory(organization=tenant.org)
    assert system_db() == "system"
    assert role_checks.role_of("default")[1:] == (False, False)
    assert role_checks.role_of("system")[2] is True
    assert (
        connections["system"].settings_dict["NAME"] == connections["default"].settings_dict["NAME"]
    )
    everyone = set(Member.objects.unscoped().using("system").values_list("organization", flat=True))
    assert everyone == {org_a.org.pk, org_b.org.pk}
    assert not Member.objects.unscoped().exists()  # the app's role, no scope: nothing


def _ids(output: str) -> list[str]:
    return re.findall(r"\((qunyun\.\w+)\)", output)


def test_check_deploy_errors_when_the_app_role_bypasses_row_level_security():
    system_url = os.environ["SYSTEM_DATABASE_URL"]
    result = _check_deploy(DATABASE_URL=system_url, SYSTEM_DATABASE_URL=system_url)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert _ids(output) == ["qunyun.E001"], output
    assert "BYPASSRLS" in output


def test_check_deploy_errors_when_the_system_role_cannot_bypass():
    app_url = os.environ["DATABASE_URL"]
    result = _check_deploy(DATABASE_URL=app_url, SYSTEM_DATABASE_URL="")  # defaults to the app's
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert _ids(output) == ["qunyun.E002"], output


def test_check_deploy_passes_the_two_roles_as_the_test_set_up_makes_them():
    result = _check_deploy(
        DATABASE_URL=os.environ["DATABASE_URL"],
        SYSTEM_DATABASE_URL=os.environ["SYSTEM_DATABASE_URL"],
        SECURE_HSTS_PRELOAD="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _ids(result.stdout + result.stderr) == []


def test_a_superuser_app_role_is_an_error_too(monkeypatch):
    roles = {"default": ("postgres", True, True), "system": ("qunyun_system", False, True)}
    monkeypatch.setattr(role_checks, "role_of", roles.__getitem__)
    errors = role_checks.database_roles()
    assert [(e.id, e.level) for e in errors] == [("qunyun.E001", checks.ERROR)]
    assert "superuser" in errors[0].msg
    assert role_checks.database_roles in checks.registry.registry.get_checks(
        include_deployment_checks=True
    )
    assert role_checks.database_roles not in checks.registry.registry.get_checks()
