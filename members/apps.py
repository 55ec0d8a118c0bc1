from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"

    def ready(self):
        from communities import hooks

        from . import selectors

        hooks.community_page_panels.register(selectors.community_page_panel)
