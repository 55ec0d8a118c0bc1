"""The team side of the practice (seed 002 §2.3, 000 三, 004): duties with a rhythm for each
role, goals set and raised step by step, and monthly awards.

- `Duty`: what a community role owes each week or day (话题官: 3 interactions a week; 副团长:
  greet every newcomer within 2 hours), in every group or in one. Measured from what Qunyun
  already records; `DutyTick` rows are the duties ticked by hand.
- `Goal`: a target on one figure the metrics measure, for the organization or one group, with
  a date. A goal met can be raised: the raised goal points at the one it replaced.
- `AwardRound`: one month's awards (最佳服务奖, 最佳活跃奖, 最佳业绩奖): nominees computed
  from the data at month end, winners confirmed by the owner and announced by the bot.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from communities.models import CommunityKind
from core.formatting import count, num, percent
from tenancy.models import TenantModel
from tenancy.roles import CommunityRole

# --- duties --------------------------------------------------------------------------------


class DutyMeasure(models.TextChoices):
    POSTS = "posts", _("Posts sent from the content calendar")
    TOPICS = "topics", _("Discussion topics sent")
    GREETINGS = "greetings", _("Newcomers greeted in time (share)")
    CASES = "cases", _("Member-care cases handled")
    REPLIES = "replies", _("Replies to members from member care")
    FOLLOW_UPS = "follow_ups", _("After-sales follow-ups done")
    MANUAL = "manual", _("Ticked by hand")


class DutyPeriod(models.TextChoices):
    WEEK = "week", pgettext_lazy("every", "Week")
    DAY = "day", pgettext_lazy("every", "Day")


MAX_QUOTA = 1000


class Duty(TenantModel):
    """A role's duty with its rhythm: `quota` of `measure` each `period`, in every group where
    someone holds `role` (or only in `community`). For greetings the quota is a percentage."""

    title = models.CharField(_("duty"), max_length=100)
    role = models.CharField(_("role"), max_length=20, choices=CommunityRole.choices)
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only in group"),
    )
    measure = models.CharField(_("counted from"), max_length=20, choices=DutyMeasure.choices)
    period = models.CharField(_("every"), max_length=10, choices=DutyPeriod.choices)
    quota = models.PositiveSmallIntegerField(
        _("quota"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QUOTA)]
    )
    within_hours = models.PositiveSmallIntegerField(
        _("greet within (hours)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        indexes = [models.Index(fields=["organization", "is_active", "role"])]

    def __str__(self):
        return self.title

    @property
    def is_share(self) -> bool:
        return self.measure == DutyMeasure.GREETINGS

    @property
    def rhythm(self) -> str:
        """The quota with its period as a person reads it: "3 a week", "100% each day"."""
        if self.is_share:
            n = percent(self.quota, 0)
            if self.period == DutyPeriod.DAY:
                return gettext("%(n)s each day") % {"n": n}
            return gettext("%(n)s each week") % {"n": n}
        if self.period == DutyPeriod.DAY:
            return gettext("%(n)s a day") % {"n": count(self.quota)}
        return gettext("%(n)s a week") % {"n": count(self.quota)}


class DutyTick(TenantModel):
    """A duty done, ticked by hand (for duties Qunyun cannot see). Undone, never deleted."""

    duty = models.ForeignKey(Duty, on_delete=models.PROTECT, related_name="ticks")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))  # the organization's local day
    count = models.PositiveSmallIntegerField(
        _("times"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("ticked"), default=timezone.now)
    created_by_label = models.CharField(_("by"), max_length=200, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)

    class Meta:
        verbose_name = _("duty ticked by hand")
        verbose_name_plural = _("duties ticked by hand")
        indexes = [
            models.Index(fields=["organization", "day", "duty"]),
            models.Index(fields=["organization", "user", "day"]),
        ]

    def __str__(self):
        return f"{self.duty} · {self.day}"


# --- goals -----------------------------------------------------------------------------------


class GoalFigure(models.TextChoices):
    MEMBERS = "members", _("Members")
    LOYAL = "loyal_members", _("Loyal members")
    ACTIVITY = "activity_rate", _("Activity rate")
    CONVERSION = "conversion_rate", _("Conversion rate")
    REPURCHASE = "repurchase_rate", _("Repurchase rate")
    REVENUE = "revenue", _("Revenue in the last 30 days")
    GROUPS = "groups", _("Number of groups")


RATE_FIGURES = {GoalFigure.ACTIVITY, GoalFigure.CONVERSION, GoalFigure.REPURCHASE}
COUNT_FIGURES = {GoalFigure.MEMBERS, GoalFigure.LOYAL, GoalFigure.GROUPS}


class GoalStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("goal", "Open")
    MET = "met", pgettext_lazy("goal", "Met")
    RAISED = "raised", pgettext_lazy("goal", "Raised")
    DROPPED = "dropped", pgettext_lazy("goal", "Dropped")


class Goal(TenantModel):
    """A target on a measured figure by a date, for the organization (no group) or one group.
    Rates are kept in percent (40 = 40%), revenue in yuan, the rest as counts."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    figure = models.CharField(_("figure"), max_length=20, choices=GoalFigure.choices)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    # loyal members: active on at least this many of the last 30 days
    loyal_days = models.PositiveSmallIntegerField(
        _("active days out of 30"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    # number of groups: only groups of this kind (blank: every kind)
    group_kind = models.CharField(
        _("kind of group"), max_length=20, choices=CommunityKind.choices, blank=True
    )
    baseline = models.DecimalField(_("when set"), max_digits=14, decimal_places=2)
    starts_on = models.DateField(_("set on"))
    due_on = models.DateField(_("target date"))
    status = models.CharField(
        _("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN
    )
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    met_value = models.DecimalField(
        _("value when met"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised from"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("raised or dropped"), null=True, blank=True)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        indexes = [
            models.Index(fields=["organization", "status", "due_on"]),
            models.Index(fields=["organization", "community", "status"]),
        ]

    def __str__(self):
        return f"{self.get_figure_display()} → {num(self.target)}"

    @property
    def is_rate(self) -> bool:
        return self.figure in RATE_FIGURES

    @property
    def is_live(self) -> bool:
        """Open or met: shown with its progress (raised and dropped goals are history)."""
        return self.status in (GoalStatus.OPEN, GoalStatus.MET)


# --- awards ----------------------------------------------------------------------------------


class AwardKind(models.TextChoices):
    BEST_SERVICE = "best_service", _("Best Service Award")
    BEST_ACTIVITY = "best_activity", _("Best Activity Award")
    TOP_SALES = "top_sales", _("Best Sales Award")


# Awards to a member are given in each group; awards to staff once for the organization.
MEMBER_AWARDS = {AwardKind.BEST_ACTIVITY}


class RoundStatus(models.TextChoices):
    NOMINATED = "nominated", _("Nominees ready, waiting for the owner")
    CONFIRMED = "confirmed", _("Winners confirmed and announced")


class AwardRound(TenantModel):
    """One month's awards."""

    month = models.DateField(_("month"))  # its first day
    status = models.CharField(
        _("status"), max_length=20, choices=RoundStatus.choices, default=RoundStatus.NOMINATED
    )
    computed_at = models.DateTimeField(_("nominees computed"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("award month")
        verbose_name_plural = _("award months")
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="awardround_one_a_month")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m}"


class Nominee(TenantModel):
    """A nominee of an award: a staff member (`user`) or a member of a group (`member`), with
    the figures that put them there. The winners are the confirmed ones."""

    round = models.ForeignKey(AwardRound, on_delete=models.PROTECT, related_name="nominees")
    award = models.CharField(_("award"), max_length=20, choices=AwardKind.choices)
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    figures = models.JSONField(_("figures"), default=dict)
    is_winner = models.BooleanField(_("winner"), default=False)
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)

    class Meta:
        verbose_name = _("nominee")
        verbose_name_plural = _("nominees")
        ordering = ["award", "community_id", "rank"]
        indexes = [
            models.Index(fields=["organization", "round", "award"]),
            models.Index(fields=["organization", "is_winner"]),
        ]

    def __str__(self):
        who = self.user or self.member
        return f"{self.get_award_display()} · {who}"
