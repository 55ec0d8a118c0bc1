"""The tenant policies lose their bypass value: `app.org_id = '0'` no longer shows every
organization to the application's role. System work across organizations uses the `system`
database role, which has BYPASSRLS (tenancy/rls.py, docs/deployment.md). Adds the SELECT-only
lookup policies of memberships, API keys and invitations. Rewrites the policy of every table
that has one, whichever app created it; a no-op on SQLite."""

from django.db import migrations

from tenancy.rls import without_bypass_operations


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0006_signup_first_steps_bot_status")]

    operations = without_bypass_operations()
