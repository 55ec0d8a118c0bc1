"""One group's own wording of the bot's messages: the organization's pages
(integrations.message_views) with the group as their scope (`community.manage` in it)."""

from integrations import message_views

from .views import CommunityMixin


class GroupScope(CommunityMixin):
    community_capability = "community.manage"
    list_url_name = "community-messages"
    edit_url_name = "community-message-edit"
    preview_url_name = "community-message-preview"
    reset_url_name = "community-message-reset"
    restore_url_name = "community-message-restore"

    def get_community(self):
        return self.community

    def url_kwargs(self, **extra) -> dict:
        return {"org_slug": self.organization.slug, "pk": self.community.pk, **extra}


class GroupMessagesView(GroupScope, message_views.MessageTemplatesView):
    pass


class GroupMessageEditView(GroupScope, message_views.MessageTemplateEditView):
    pass


class GroupMessagePreviewView(GroupScope, message_views.MessageTemplatePreviewView):
    pass


class GroupMessageResetView(GroupScope, message_views.MessageTemplateResetView):
    pass


class GroupMessageRestoreView(GroupScope, message_views.MessageVersionRestoreView):
    pass


def preview_names(org, community) -> dict:
    """The group's name for a preview of its wording (or its first group)."""
    from .models import Community, CommunityStatus

    if community is None:
        community = (
            Community.objects.for_org(org)
            .filter(status=CommunityStatus.ACTIVE)
            .order_by("pk")
            .first()
        )
    return {"group": community.name} if community else {}
