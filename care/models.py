"""Member care (seed 002, 售后跟进 and 舆情处理): complaint and after-sales cases that move through
respond → acknowledge → resolve → follow up → close, and follow-up tasks made from orders."""

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenancy.models import TenantModel

# Seed 002: "这个产品质量太差了", complaints, refunds, broken parcels.
DEFAULT_KEYWORDS = ["质量太差", "投诉", "退款", "退货", "破损", "坏了", "假货", "差评", "骗人"]
MAX_KEYWORDS = 50


def default_keywords() -> list:
    return list(DEFAULT_KEYWORDS)


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    QUESTION = "after_sales", _("After-sales question")
    REFUND = "refund", _("Refund request")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a response")
    RESPONDED = "responded", _("Responded")
    ACKNOWLEDGED = "acknowledged", _("Feelings acknowledged")
    RESOLVED = "resolved", _("Resolved")
    FOLLOWED_UP = "followed_up", _("Followed up")
    CLOSED = "closed", _("Closed")


# The order of seed 002's steps; a case moves one step at a time.
STEPS = [
    CaseStatus.OPEN,
    CaseStatus.RESPONDED,
    CaseStatus.ACKNOWLEDGED,
    CaseStatus.RESOLVED,
    CaseStatus.FOLLOWED_UP,
    CaseStatus.CLOSED,
]
NOT_CLOSED = [s for s in STEPS if s != CaseStatus.CLOSED]


class Resolution(models.TextChoices):
    REPLACEMENT = "replacement", _("Replacement sent")
    REFUND = "refund", _("Refund")
    EXPLANATION = "explanation", _("Explanation")
    OTHER = "other", _("Other")


class CaseSource(models.TextChoices):
    KEYWORD = "keyword", _("Complaint keyword in the group")
    MANUAL = "manual", _("Opened by staff")
    API = "api", _("Opened through the API")
    FOLLOW_UP = "follow_up", _("From an after-sales follow-up")
    MEMBER_PAGE = "member_page", _("Reported by the member on their page")


class CareSettings(TenantModel):
    """One per organization: the first-response clock and the complaint keywords."""

    first_response_minutes = models.PositiveSmallIntegerField(
        _("first response within (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    # The clock runs in service hours of the organization's time zone; equal times: all day.
    service_start = models.TimeField(_("service hours start"), default=time(8, 0))
    service_end = models.TimeField(_("service hours end"), default=time(22, 0))
    complaint_keywords = models.JSONField(
        _("complaint keywords"), default=default_keywords, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("care settings")
        verbose_name_plural = _("care settings")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="caresettings_one_per_org")
        ]


class CommunityKeywords(TenantModel):
    """A group's own complaint keywords, instead of the organization's (an empty list: no
    cases are opened from keywords in this group)."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    keywords = models.JSONField(_("complaint keywords"), default=list, blank=True)  # [] = none
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "community"], name="communitykeywords_one_per_group"
            )
        ]


class Case(TenantModel):
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    order = models.ForeignKey(
        "campaigns.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    subject = models.CharField(_("subject"), max_length=200)
    source = models.CharField(_("source"), max_length=20, choices=CaseSource.choices)
    source_event_id = models.CharField(max_length=100, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by_label = models.CharField(_("opened by"), max_length=200, blank=True)
    clock_started_at = models.DateTimeField(_("clock started"))
    first_response_due_at = models.DateTimeField(_("first response due"))
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    # The member came back after a resolution: how often, and the last time.
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    reopened_at = models.DateTimeField(_("last reopened"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(
        _("resolution"), max_length=20, choices=Resolution.choices, blank=True
    )
    followed_up_at = models.DateTimeField(_("followed up"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            # Two racing batches cannot open two cases for one message.
            models.UniqueConstraint(
                fields=["organization", "source_event_id"],
                condition=~Q(source_event_id=""),
                name="case_one_per_source_event",
            ),
            # One open complaint per member per group: more messages join its timeline.
            models.UniqueConstraint(
                fields=["organization", "member", "community"],
                condition=Q(kind="complaint") & ~Q(status="closed"),
                name="case_one_open_complaint_per_member_group",
            ),
            # No resolved, followed-up or closed case without its resolution.
            models.CheckConstraint(
                condition=Q(status__in=["open", "responded", "acknowledged"]) | ~Q(resolution=""),
                name="case_resolution_before_resolved",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "first_response_due_at"]),
            models.Index(fields=["organization", "assignee", "status"]),
            models.Index(fields=["organization", "community", "status"]),
            models.Index(fields=["organization", "opened_at"]),
            models.Index(fields=["organization", "member"]),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED

    def is_overdue(self, now=None) -> bool:
        """Past the first-response deadline with no response yet."""
        return self.responded_at is None and (now or timezone.now()) > self.first_response_due_at

    @property
    def responded_late(self) -> bool:
        return self.responded_at is not None and self.responded_at > self.first_response_due_at

    @property
    def next_step(self):
        index = STEPS.index(self.status)
        return STEPS[index + 1] if index + 1 < len(STEPS) else None


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    MESSAGE = "message", _("Message in the group")
    COMMENT = "comment", _("Comment")
    STEP = "step", _("Step")
    ASSIGNED = "assigned", _("Assigned")
    REFUND = "refund", _("Refund")
    REPLY = "reply", _("Reply sent by the bot")
    REOPENED = "reopened", _("Reopened")


class CaseEvent(TenantModel):
    """The case's timeline: append-only."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=CaseEventKind.choices)
    step = models.CharField(_("step"), max_length=20, choices=CaseStatus.choices, blank=True)
    text = models.TextField(_("text"), blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["organization", "case", "created_at"])]


class FollowUpTrigger(models.TextChoices):
    BOUGHT = "bought", _("Order paid (or reported by a bot)")
    SHIPPED = "shipped", _("Order shipped")
    DELIVERED = "delivered", _("Order delivered")


class FollowUpChannel(models.TextChoices):
    BOT = "bot", _("The bot messages the member")
    STAFF = "staff", _("A task for the group's staff")


class FollowUpRule(TenantModel):
    """Seed 002's after-sales routine: confirm the order, ask how the product works out."""

    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(_("when"), max_length=20, choices=FollowUpTrigger.choices)
    delay_hours = models.PositiveIntegerField(
        _("hours after"), default=0, validators=[MaxValueValidator(24 * 90)]
    )
    channel = models.CharField(_("how"), max_length=10, choices=FollowUpChannel.choices)
    message = models.TextField(
        _("message"),
        help_text=_("Placeholders: {name} (the member), {order} (order id), {items}."),
    )
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only in group"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Orders before the rule existed are not followed up (no message storm for old orders).
    active_since = models.DateTimeField(_("active since"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")
        indexes = [models.Index(fields=["organization", "is_active"])]

    def __str__(self):
        return self.name


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("To do")
    SENT = "sent", _("Sent by the bot")
    DONE = "done", pgettext_lazy("follow-up", "Done")
    SKIPPED = "skipped", _("Skipped")


class FollowUpTask(TenantModel):
    rule = models.ForeignKey(FollowUpRule, on_delete=models.PROTECT, related_name="tasks")
    order = models.ForeignKey("campaigns.Order", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("how"), max_length=10, choices=FollowUpChannel.choices)
    text = models.TextField(_("message"))
    status = models.CharField(_("status"), max_length=10, choices=FollowUpStatus.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.ForeignKey(
        "integrations.Action", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by_label = models.CharField(_("by"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rule", "order"], name="followup_once_per_rule_order"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_at"]),
            models.Index(fields=["organization", "assignee", "status"]),
        ]

    def __str__(self):
        return f"{self.rule} · {self.order}"


class MilestoneKind(models.TextChoices):
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")


class OrderMilestone(TenantModel):
    """An order's shipping and delivery, as the bots report them (order.shipped/.delivered)."""

    order = models.ForeignKey("campaigns.Order", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=MilestoneKind.choices)
    at = models.DateTimeField()
    tracking = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "order", "kind"], name="ordermilestone_once"
            )
        ]
        indexes = [models.Index(fields=["organization", "kind", "at"])]
