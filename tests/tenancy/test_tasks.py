import pytest

from tenancy.models import OrgMembership
from tenancy.scope import TenantScopeError, current_org
from tenancy.tasks import tenant_task


@tenant_task
def count_owners(org):
    # plain manager access: works because the task set the scope
    return {"org": current_org().slug, "owners": OrgMembership.objects.filter(role="owner").count()}


@tenant_task(name="tests.explicit_name", max_retries=2)
def named_task(org, value):
    return [org.slug, value]


def test_tenant_task_sets_and_clears_the_scope(org_a, org_b):
    result = count_owners.apply(args=[org_b.org.pk]).get()
    assert result == {"org": org_b.org.slug, "owners": 1}
    assert current_org() is None
    with pytest.raises(TenantScopeError):
        OrgMembership.objects.count()


def test_tenant_task_options_and_json_arguments(org_a):
    assert named_task.name == "tests.explicit_name"
    assert named_task.max_retries == 2
    assert named_task.apply(args=[org_a.org.pk, "x"]).get() == [org_a.org.slug, "x"]


def test_unknown_organization_fails_the_task(db):
    result = count_owners.apply(args=[987654])
    assert result.failed()


def test_every_beat_job_is_a_tenant_task_that_exists():
    import importlib

    from django.conf import settings

    from tenancy.tasks import fan_out

    for job in settings.TENANT_JOBS:
        module_name, _, attr = job.rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attr).delay), job
        assert settings.CELERY_BEAT_SCHEDULE[job]["args"] == [job]
    with pytest.raises(ValueError):
        fan_out.apply(args=["os.system"]).get()
