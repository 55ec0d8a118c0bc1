from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The member side: phone pages members open from their group (docs/members.md)."""

    name = "portal"
    verbose_name = "Member pages"
