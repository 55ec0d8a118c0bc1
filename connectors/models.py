"""The state of the first-party connectors (docs/connectors.md): how an organization's
Telegram bot is connected, and the chats it is in. The bot's token is the integrations app's
`BotCredential` (encrypted); events go in through `ingestion.pipeline` and actions come out of
the outbox like a REST bot's, so nothing here is domain data."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenancy.models import TenantModel


class ConnectionMode(models.TextChoices):
    OFF = "off", pgettext_lazy("connection mode", "Off")
    WEBHOOK = "webhook", _("Webhook (Telegram calls Qunyun)")
    POLLING = "polling", _("Long polling (Qunyun asks Telegram)")


class ConnectionState(models.TextChoices):
    OFF = "off", pgettext_lazy("connection state", "Off")
    OK = "ok", _("Connected")
    BROKEN = "broken", _("Broken")


class ConnectionStatus(models.Model):
    """What every connection keeps for the bot connections page (connectors/state.py writes
    the stamps and the error)."""

    state = models.CharField(
        _("state"), max_length=10, choices=ConnectionState.choices, default=ConnectionState.OFF
    )
    credential = models.ForeignKey(
        "integrations.BotCredential", on_delete=models.PROTECT, null=True, related_name="+"
    )
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)
    last_update_at = models.DateTimeField(_("last update"), null=True, blank=True)
    last_send_at = models.DateTimeField(_("last send"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        abstract = True


class TelegramConnection(TenantModel, ConnectionStatus):
    """One per organization. The webhook's path secret and `secret_token` are stored as
    SHA-256 digests: Telegram is told them once, when the webhook is registered."""

    mode = models.CharField(
        _("mode"), max_length=10, choices=ConnectionMode.choices, default=ConnectionMode.OFF
    )
    bot_id = models.BigIntegerField(_("bot id"), null=True, blank=True)
    bot_username = models.CharField(_("bot"), max_length=64, blank=True)
    path_digest = models.CharField(max_length=64, blank=True)
    secret_digest = models.CharField(max_length=64, blank=True)
    update_offset = models.BigIntegerField(default=0)  # long polling: the next update_id

    class Meta:
        verbose_name = _("Telegram connection")
        verbose_name_plural = _("Telegram connections")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="one_telegram_connection")
        ]

    def __str__(self):
        return f"@{self.bot_username}" if self.bot_username else "Telegram"

    @property
    def is_on(self) -> bool:
        return self.mode != ConnectionMode.OFF


class TelegramChat(TenantModel):
    """A group the bot is (or was) in. `external_id` is the group's id in Qunyun (its first
    chat id): a group upgraded to a supergroup gets a new `chat_id` and keeps it."""

    chat_id = models.BigIntegerField(_("chat id"))
    external_id = models.CharField(_("group id in Qunyun"), max_length=128)
    migrated_from = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    chat_type = models.CharField(_("type"), max_length=20, blank=True)
    bot_status = models.CharField(_("bot's status"), max_length=20, blank=True)
    can_delete = models.BooleanField(_("may delete messages"), default=False)
    can_restrict = models.BooleanField(_("may restrict and remove members"), default=False)
    can_pin = models.BooleanField(_("may pin messages"), default=False)
    problem = models.CharField(_("problem"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("Telegram chat")
        verbose_name_plural = _("Telegram chats")
        constraints = [
            models.UniqueConstraint(fields=["organization", "chat_id"], name="telegram_chat_once")
        ]
        indexes = [models.Index(fields=["organization", "external_id"])]

    def __str__(self):
        return self.title or str(self.chat_id)

    @property
    def is_present(self) -> bool:
        return self.bot_status in ("member", "administrator", "creator", "restricted")


class WeComMode(models.TextChoices):
    OFF = "off", pgettext_lazy("connection mode", "Off")
    CALLBACK = "callback", _("Callback (WeCom calls Qunyun) and the WeCom API")


class WeComConnection(TenantModel, ConnectionStatus):
    """One per organization: the WeCom app (企业微信) whose customer groups Qunyun follows.
    The app's secret, the callback's Token and EncodingAESKey are the integrations app's
    `BotCredential` (platform "wecom", sealed together); the callback address's path secret is
    derived from `path_nonce` (see connectors/wecom/services.py: the operator pastes it into
    WeCom's admin, so the page can show it again)."""

    mode = models.CharField(
        _("mode"), max_length=10, choices=WeComMode.choices, default=WeComMode.OFF
    )
    corp_id = models.CharField(_("corp id"), max_length=64, blank=True)
    agent_id = models.CharField(_("agent id"), max_length=20, blank=True)
    path_nonce = models.CharField(max_length=64, blank=True)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)

    class Meta:
        verbose_name = _("WeCom connection")
        verbose_name_plural = _("WeCom connections")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="one_wecom_connection")
        ]

    def __str__(self):
        return self.corp_id or "WeCom"

    @property
    def is_on(self) -> bool:
        return self.mode != WeComMode.OFF


class WeComGroup(TenantModel):
    """A customer group (客户群) of the organization's WeCom. `members` is the last member list
    seen (groupchat/get): {external userid: {"name", "join_time", "join_scene"}}; a sync or a
    change event compares with it to tell who joined and who left."""

    chat_id = models.CharField(_("chat id"), max_length=128)
    external_id = models.CharField(_("group id in Qunyun"), max_length=128)
    title = models.CharField(_("title"), max_length=255, blank=True)
    owner = models.CharField(_("owner (staff userid)"), max_length=64, blank=True)
    dismissed = models.BooleanField(_("dismissed"), default=False)
    members = models.JSONField(default=dict, blank=True)
    welcome_template_id = models.CharField(_("welcome material id"), max_length=128, blank=True)
    welcome_digest = models.CharField(max_length=64, blank=True)
    problem = models.CharField(_("problem"), max_length=300, blank=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("WeCom customer group")
        verbose_name_plural = _("WeCom customer groups")
        constraints = [
            models.UniqueConstraint(fields=["organization", "chat_id"], name="wecom_group_once")
        ]
        indexes = [models.Index(fields=["organization", "external_id"])]

    def __str__(self):
        return self.title or self.chat_id


class WeComSendTask(TenantModel):
    """A 客户群群发 task (externalcontact/add_msg_template) made for an outbox action: WeCom
    asks the group's owner to confirm the send, and the action waits for staff until the send
    result says it went out (or failed)."""

    action = models.OneToOneField("integrations.Action", on_delete=models.PROTECT, related_name="+")
    msgid = models.CharField(max_length=128)
    chat_id = models.CharField(max_length=128)
    sender = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("WeCom send task")
        verbose_name_plural = _("WeCom send tasks")
        indexes = [models.Index(fields=["organization", "finished_at"])]


class PollerLease(models.Model):
    """Who runs the long poller now (`connectors/lease.py`): one row per poller kind, across
    organizations. A second `telegram_poll` stands by until the lease of the first runs out."""

    name = models.CharField(primary_key=True, max_length=50)
    holder = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name}: {self.holder or '-'}"
