from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from . import (
            checks,  # noqa: F401 - registers the deploy check of the database roles
            home,
            hooks,
        )

        hooks.first_steps.register(home.team_steps)
