"""Row-level security on every tenant table that exists so far (tenancy/rls.py). Apps that add
tenant tables later put `*enable_rls_operations("<app>")` in their own migrations."""

from django.db import migrations

from tenancy.rls import enable_rls_operations

APPS = ["tenancy", "communities", "members", "campaigns", "integrations", "metrics", "care"]


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0001_initial"),
        ("communities", "0002_initial"),
        ("members", "0003_member_phone_erased_at"),
        ("campaigns", "0002_initial"),
        ("integrations", "0003_initial"),
        ("metrics", "0001_initial"),
        ("care", "0001_initial"),
    ]

    operations = [op for app in APPS for op in enable_rls_operations(app)]
