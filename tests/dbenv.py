"""The database variables for a child process (gunicorn, a Celery worker) started by a test:
the test database, as the application's role and as the system role (tenancy/system.py)."""

from django.db import connections


def child_database_env() -> dict:
    app = connections["default"].settings_dict
    system = connections["system"].settings_dict
    name = app["NAME"]  # the test database: the system alias may not have been set up
    return {
        "DATABASE_URL": f"postgres://{app['USER']}@{app['HOST']}:{app['PORT']}/{name}",
        "SYSTEM_DATABASE_URL": f"postgres://{system['USER']}@{system['HOST']}:{system['PORT']}/{name}",
    }
