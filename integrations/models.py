"""The outbox: actions for the chat bots to carry out, written in the same transaction as the
change that causes them. Delivery (webhooks, polling) comes with the content-calendar issue."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenancy.models import TenantModel

from .platforms import Platform


class ActionKind(models.TextChoices):
    WELCOME = "member.welcome", _("Welcome a member")
    WARN = "member.warn", _("Warn a member")
    REMOVE = "member.remove", _("Remove a member")
    REMIND = "member.remind", _("Remind a dormant member")
    INVITE_BACK = "member.invite_back", _("Invite a reinstated member back")
    REPLY = "post.reply", _("Reply to a message")
    PUBLISH = "post.publish", _("Publish a post")
    ANNOUNCE = "group.announce", _("Announce in the group")
    NOTIFY = "member.notify", _("Tell a member")


class ActionStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("bot action", "Pending")
    LEASED = "leased", _("Picked up by a bot")
    # A platform that makes staff confirm each send (a WeCom 客户群群发 task): the connector
    # handed it over, and it is done when the platform says the staff member sent it.
    WAITING_STAFF = "waiting_staff", _("Waiting for staff to confirm the send")
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
    lease_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            models.Index(fields=["organization", "status", "created_at"]),
            models.Index(fields=["organization", "member"]),
            # The unfinished actions only, small: the monitoring's backlog per kind reads it
            # across organizations (config/monitoring.py).
            models.Index(
                fields=["organization", "status", "kind", "created_at"],
                condition=models.Q(status__in=["pending", "leased"]),
                name="action_unfinished_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class WebhookEndpoint(TenantModel):
    """Where actions are pushed, signed with HMAC-SHA256. The secret is never stored: it is
    derived from a random nonce and the server's key, shown once when the endpoint is made."""

    url = models.URLField(_("URL"), max_length=500)
    nonce = models.CharField(max_length=64)
    secret_hint = models.CharField(_("secret"), max_length=16)
    kinds = models.JSONField(_("action kinds"), default=list, blank=True)  # empty: all kinds
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The connection status page: written at most once a minute (delivery._attempt).
    last_delivered_at = models.DateTimeField(_("last successful delivery"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.url

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def kind_labels(self) -> list[str]:
        """The action kinds it receives, as a person reads them (empty: all kinds)."""
        labels = dict(ActionKind.choices)
        return [str(labels.get(kind, kind)) for kind in self.kinds]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery", "Waiting")
    SUCCEEDED = "succeeded", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    DEAD = "dead", _("Gave up")


class WebhookDelivery(TenantModel):
    """One action to one endpoint: its attempts, the last response, when to try again."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_status_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "action", "endpoint"], name="delivery_once_per_endpoint"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "next_attempt_at"]),
            models.Index(  # the waiting ones only, for the monitoring (config/monitoring.py)
                fields=["organization", "status", "next_attempt_at"],
                condition=models.Q(status__in=["pending", "retrying"]),
                name="delivery_waiting_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.action_id} → {self.endpoint}"

    @property
    def error_label(self) -> str:
        """What the last error category means (older rows may hold free text)."""
        from .netguard import ERROR_LABELS

        return str(ERROR_LABELS.get(self.last_error, self.last_error))


class BotCredential(TenantModel):
    """A platform bot's secret the product itself uses (a Telegram bot token: it verifies Mini
    App openings). Stored encrypted (core/secrets_box.py) and never shown again; replacing it
    keeps the old row, retired."""

    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    sealed_secret = models.TextField()
    hint = models.CharField(_("ends in"), max_length=8)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by_label = models.CharField(max_length=200, blank=True)
    retired_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("bot credential")
        verbose_name_plural = _("bot credentials")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform"],
                condition=models.Q(retired_at=None),
                name="one_live_bot_credential_per_platform",
            )
        ]


class MessageTemplate(TenantModel):
    """The operator's own wording of one message the bot sends (a template of the composer's,
    `integrations.composer.TEMPLATES`), for the whole organization (community empty) or one
    group, in one language. The composer uses the most specific active one: the group's, then
    the organization's, then its built-in text.

    Rows are versions and nothing is deleted: saving adds a row and retires the active one;
    going back to the built-in text retires the active one and adds nothing."""

    key = models.CharField(_("message"), max_length=40)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    # By name, like Action.community: integrations sits below communities and imports nothing
    # of it; the services take the group from the layer above and check its organization.
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("text"), max_length=1000)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("saved"), default=timezone.now)
    created_by = models.CharField(_("by"), max_length=200, blank=True)
    retired_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key", "language"],
                condition=models.Q(is_active=True, community__isnull=True),
                name="message_template_one_active_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "key", "language", "community"],
                condition=models.Q(is_active=True, community__isnull=False),
                name="message_template_one_active_per_group",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "key", "language", "community", "created_at"],
                name="message_template_history_idx",
            ),
        ]

    def __str__(self):
        from .composer import template_label

        return str(template_label(self.key))
