import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.db.models.signals import class_prepared
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .managers import TenantManager, UserManager, tenant_options
from .rls import org_hint
from .roles import OrgRole


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1–50 lowercase letters, digits and hyphens; start and end with a letter or digit."),
)


def default_group_limits() -> dict:
    return {"general": 1, "category": 1}


# Words that mark a message as a personal attack where a group has the no_personal_attacks rule
# (seed 002: 禁止人身攻击); the organization edits the list in its settings.
DEFAULT_ABUSE_WORDS = [
    "傻逼",
    "滚蛋",
    "去死",
    "白痴",
    "废物",
    "脑残",
    "贱人",
    "垃圾人",
    "神经病",
    "有病吧",
]


def default_abuse_words() -> list:
    return list(DEFAULT_ABUSE_WORDS)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in to the dashboard. Logs in with an email address."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform admin"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name or self.email.split("@")[0]


# Months of raw events kept, as offered to every organization (see `raw_event_retention_months`).
RAW_EVENT_RETENTION_CHOICES = [
    (13, _("13 months")),
    (25, _("25 months")),
    (37, _("37 months")),
]


class Organization(models.Model):
    """The tenant: a brand, shop or operator team. Every tenant row points at one."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=50, unique=True, validators=[slug_validator])
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=settings.DEFAULT_ORG_TIME_ZONE,
        validators=[validate_time_zone],
    )
    default_language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    sub_owner_community_limit = models.PositiveSmallIntegerField(
        _("communities per sub-owner"),
        default=4,
        help_text=_("Warn when a sub-owner runs more groups than this."),
    )
    # How many groups of a kind one member may join before staff are alerted (seed 004: one
    # general and one category group).
    group_limits = models.JSONField(
        _("groups of a kind per member"), default=default_group_limits, blank=True
    )
    abuse_words = models.JSONField(
        _("words that count as personal attacks"), default=default_abuse_words, blank=True
    )
    remove_blocked_on_join = models.BooleanField(
        _("remove blocked members at once when they join another group"), default=False
    )
    monthly_campaign_budget = models.DecimalField(
        _("monthly activity budget (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    require_post_approval = models.BooleanField(
        _("posts drafted by content officers need a sub-owner's or manager's approval"),
        default=False,
    )
    store_message_text = models.BooleanField(
        _("keep message text (otherwise it is only used for rule checks)"), default=False
    )
    # How long raw events (every message and action the bots sent) are kept: one of the
    # platform's choices, because monthly partitions are shared by all organizations and a
    # month is dropped only once it is older than every organization's choice
    # (members/partitions.py, docs/scaling.md).
    raw_event_retention_months = models.PositiveSmallIntegerField(
        _("keep raw events for"), choices=RAW_EVENT_RETENTION_CHOICES, default=13
    )
    # Shown to a member after they order on their page: leaders collect payment themselves
    # (e.g. "转账到团长微信 qunyun_demo，备注订单号").
    payment_instructions = models.TextField(_("how members pay"), blank=True, max_length=1000)
    # The dormant wake-up's control group (members/holdout.py): this share of the dormant
    # members due a first wake-up is deliberately not reminded, so the metrics can measure
    # whether the reminders work at all (docs/metrics.md).
    wake_up_holdout_percent = models.PositiveSmallIntegerField(
        _("wake-up holdout (%)"),
        default=10,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
        help_text=_(
            "This share of dormant members is not reminded, chosen at random, to measure "
            "whether the reminders work. 0 to 50."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The owner put the first-steps checklist away before finishing it (tenancy/home.py); the
    # steps themselves are never stored: each is read from the data that completes it.
    first_steps_dismissed_at = models.DateTimeField(
        _("first steps dismissed"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class TenantModel(models.Model):
    """Base for every tenant-owned table: organization first, scoped manager, fails closed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )

    objects = TenantManager()

    class Meta:
        abstract = True

    # Outside a scope, a row's own writes and reloads run with its organization (tenancy/rls.py);
    # inside one the scope decides, so a row of another organization is still refused.
    def save_base(self, *args, **kwargs):
        with org_hint(self.organization_id):
            return super().save_base(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with org_hint(self.organization_id):
            return super().delete(*args, **kwargs)

    def refresh_from_db(self, *args, **kwargs):
        with org_hint(self.organization_id):
            return super().refresh_from_db(*args, **kwargs)

    def full_clean(self, *args, **kwargs):  # foreign keys and unique checks look rows up
        with org_hint(self.organization_id):
            return super().full_clean(*args, **kwargs)

    def clean_same_org(self, *related) -> None:
        """Reject cross-references to another organization's objects."""
        for obj in related:
            if obj is not None and obj.organization_id != self.organization_id:
                raise ValidationError(_("That object belongs to another organization."))


@receiver(class_prepared)
def _tenant_base_manager(sender, **kwargs):
    """Every concrete tenant model gets `TenantBaseManager` as Django's base manager (foreign
    keys, save's update, reloads, the delete collector), without a Meta option or a declared
    manager that would show up in every app's migrations."""
    if issubclass(sender, TenantModel) and not sender._meta.abstract:
        tenant_options(sender._meta)


class OrgMembership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="org_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=OrgRole.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)

    class Meta:
        verbose_name = _("organization membership")
        verbose_name_plural = _("organization memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="orgmembership_unique")
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"


class Invitation(TenantModel):
    """A single-use, expiring invitation link sent by email. Only the token's hash is stored."""

    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=OrgRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self):
        return self.email

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    def get_status_display(self):
        return {
            "accepted": _("Accepted"),
            "revoked": _("Revoked"),
            "expired": _("Expired"),
            "pending": _("Pending"),
        }[self.status]


class ApiKey(TenantModel):
    """An API key bound to one organization and a role; the secret is kept as a keyed hash."""

    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=20, choices=OrgRole.choices)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # What the bot behind the key last did (the connection status page), each written at most
    # once a minute (services.api_key_seen): a busy bot does not write on every request.
    last_event_at = models.DateTimeField(_("last event received"), null=True, blank=True)
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_ack_at = models.DateTimeField(_("last acknowledgement"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditLogEntry(TenantModel):
    """Who did what to which object, when. Append-only."""

    created_at = models.DateTimeField(_("time"), default=timezone.now)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=200)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "action"]),
            models.Index(fields=["organization", "object_type", "object_id"]),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class SignupRequest(models.Model):
    """Someone asked for a new organization on the public sign-up page. Nothing else exists
    until they open the link mailed to them (tenancy/signup.py): then the account and the
    organization are created from this row, which stays as the record of the sign-up. Not
    tenant data: no organization exists yet."""

    email = models.EmailField(_("email address"))
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    organization_name = models.CharField(_("organization"), max_length=120)
    slug = models.SlugField(_("address"), max_length=50, validators=[slug_validator])
    password_hash = models.CharField(max_length=128)
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    # the organization it created (not named `organization`: this is no tenant row)
    created_org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")

    def __str__(self):
        return f"{self.organization_name} ({self.email})"


# Staff notifications live in their own module; imported here so Django finds the models.
from .notification_models import Notification, NotificationPreference  # noqa: E402, F401
