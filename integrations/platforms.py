"""The chat platforms Qunyun connects to: a group's and an identity's `platform`."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    WECHAT = "wechat", _("WeChat")
    WECOM = "wecom", _("WeCom")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    DISCORD = "discord", _("Discord")
    OTHER = "other", _("Other")
