"""The outbox: actions for the chat bots to carry out, written in the same transaction as the
change that causes them. Delivery (webhooks, polling) comes with the content-calendar issue."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenancy.models import TenantModel


class ActionKind(models.TextChoices):
    WELCOME = "member.welcome", _("Welcome a member")
    WARN = "member.warn", _("Warn a member")
    REMOVE = "member.remove", _("Remove a member")
    REMIND = "member.remind", _("Remind a dormant member")
    INVITE_BACK = "member.invite_back", _("Invite a reinstated member back")
    REPLY = "post.reply", _("Reply to a message")
    PUBLISH = "post.publish", _("Publish a post")
    ANNOUNCE = "group.announce", _("Announce in the group")


class ActionStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("bot action", "Pending")
    DONE = "done", pgettext_lazy("bot action", "Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Action(TenantModel):
    kind = models.CharField(_("kind"), max_length=30, choices=ActionKind.choices)
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, null=True, related_name="+"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, related_name="+"
    )
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.PENDING
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            models.Index(fields=["organization", "status", "created_at"]),
            models.Index(fields=["organization", "member"]),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"
