"""`manage.py check --deploy`: the database roles row-level security depends on.

- qunyun.E001: the application's role (`DATABASE_URL`) is a superuser or has BYPASSRLS, so
  PostgreSQL skips every tenant policy for it: the second wall is not there.
- qunyun.E002: the system role (`SYSTEM_DATABASE_URL`) has neither BYPASSRLS nor superuser, so
  the jobs that span organizations (tenancy/system.py) would see no tenant rows at all.
- qunyun.W001: a role could not be inspected (the database did not answer).

Only on PostgreSQL; SQLite has no row-level security.
"""

from django.core import checks
from django.db import connections

from .system import SYSTEM

ROLE_SQL = "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"


def role_of(alias: str) -> tuple[str, bool, bool]:
    """(name, superuser, bypassrls) of the role the alias connects as."""
    with connections[alias].cursor() as cursor:
        cursor.execute(ROLE_SQL)
        return cursor.fetchone()


# Not tagged `database`: Django runs those only with `check --database`; this one must run in
# every `check --deploy`.
@checks.register("database_roles", deploy=True)
def database_roles(app_configs=None, databases=None, **kwargs):
    if connections["default"].vendor != "postgresql":
        return []
    errors = []
    try:
        name, superuser, bypass = role_of("default")
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return [checks.Warning(f"Could not inspect the database role: {exc}", id="qunyun.W001")]
    if superuser or bypass:
        what = "a superuser" if superuser else "BYPASSRLS"
        errors.append(
            checks.Error(
                f"The application's database role {name!r} is {what}: PostgreSQL skips "
                "row-level security for it, so one organization's bug can show another's data.",
                hint="Connect DATABASE_URL as a role with NOSUPERUSER NOBYPASSRLS "
                "(docs/deployment.md, 'Database roles'); put the BYPASSRLS role in "
                "SYSTEM_DATABASE_URL.",
                id="qunyun.E001",
            )
        )
    if SYSTEM in connections.settings:
        try:
            name, superuser, bypass = role_of(SYSTEM)
        except Exception as exc:  # noqa: BLE001
            errors.append(
                checks.Warning(f"Could not inspect the system role: {exc}", id="qunyun.W001")
            )
        else:
            if not (superuser or bypass):
                errors.append(
                    checks.Error(
                        f"The system database role {name!r} has no BYPASSRLS: the jobs that "
                        "span organizations (scheduler fan-out, rollup marks, /metrics, admin) "
                        "would see no tenant rows.",
                        hint="Set SYSTEM_DATABASE_URL to a role with BYPASSRLS "
                        "(docs/deployment.md, 'Database roles').",
                        id="qunyun.E002",
                    )
                )
    return errors
