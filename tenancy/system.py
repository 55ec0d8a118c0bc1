"""The database alias of system work that spans organizations.

The application's role sees one organization at a time (tenancy/rls.py: there is no bypass
value). The few jobs that must look across organizations read through `system_db()`, the
`system` alias (settings.SYSTEM_DATABASE_URL), whose role has BYPASSRLS:

- the scheduler's fan-out over organizations (`tenancy.tasks.fan_out`);
- the rollups' scan for marked days (`metrics.tasks.refresh_marked`);
- the totals of `/metrics` (config/monitoring.py);
- the platform admin (tenancy/admin.py) and operators' commands.

Each names what it reads with `.using(system_db())`, which keeps them greppable. Work on one
organization never uses it: it runs in that organization's scope on `default`.
"""

from django.conf import settings
from django.db import connections

SYSTEM = "system"


def system_db() -> str:
    """`system` where there is row-level security to bypass (PostgreSQL), else `default`."""
    if SYSTEM in settings.DATABASES and connections["default"].vendor == "postgresql":
        return SYSTEM
    return "default"
