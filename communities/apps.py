from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "communities"

    def ready(self):
        from integrations import outbox
        from tenancy import hooks

        from . import content, selectors

        hooks.dashboard_panels.register(selectors.home_panel)
        hooks.community_roles.register(selectors.staff_roles_of)
        outbox.action_finished.register(content.post_action_finished)
