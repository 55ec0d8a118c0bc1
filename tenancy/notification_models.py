"""Staff notifications (the bell) and each person's choice of how they hear of them.

The rows are written by `tenancy.notify` inside the transaction of what causes them; email goes
out afterwards through Celery. What a notification says is rendered when it is read, from its
kind and plain values, so it reads in the reader's language (kinds: `tenancy.notify`)."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import TenantModel


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Right away, one email each")
    DIGEST = "digest", _("Once a day, in one email")
    NEVER = "never", _("Never: only the bell in Qunyun")


class EmailState(models.TextChoices):
    NONE = "", _("No email")
    PENDING = "pending", _("Email waiting to go out")
    DIGEST = "digest", _("Waiting for the daily digest")
    SENT = "sent", _("Emailed")


class Notification(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=64)
    # What it is about ("case:12:due"): one person hears of one thing once, whoever asks again.
    key = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)  # a path on this site
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_state = models.CharField(max_length=10, choices=EmailState.choices, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "key"], name="notification_once_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "user", "-created_at"]),
            models.Index(
                fields=["organization", "user"],
                condition=Q(read_at=None),
                name="notification_unread",
            ),
            models.Index(
                fields=["organization", "email_state"],
                condition=Q(email_state__in=["pending", "digest"]),
                name="notification_email_due",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.user_id}"


class NotificationPreference(TenantModel):
    """How one person of the organization hears of their notifications (the bell always)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    email_mode = models.CharField(
        _("email"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    # The local hour (organization's time zone) the daily digest goes out.
    digest_hour = models.PositiveSmallIntegerField(
        _("digest at"), default=8, validators=[MaxValueValidator(23)]
    )
    # Kinds this person wants no email for (the bell still shows them).
    quiet_kinds = models.JSONField(default=list, blank=True)
    last_digest_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="notificationpreference_one_per_person"
            ),
            models.CheckConstraint(
                condition=Q(digest_hour__lte=23), name="notificationpreference_digest_hour"
            ),
        ]
