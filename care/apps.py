from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "care"

    def ready(self):
        from members import hooks as member_hooks
        from tenancy import hooks as tenancy_hooks

        from . import selectors, services

        member_hooks.privacy_sections.register(services.privacy_sections)
        tenancy_hooks.dashboard_panels.register(selectors.home_panel)
