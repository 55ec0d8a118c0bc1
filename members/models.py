"""Members (people), their platform identities, memberships in groups and everything that
happens to them: raw events, warnings, blocks, check-ins, invites, points."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from integrations.platforms import Platform
from tenancy.models import TenantModel


class Member(TenantModel):
    """One person. Several platform identities may be linked to it."""

    display_name = models.CharField(_("name"), max_length=120, blank=True)
    name_card = models.CharField(_("name card"), max_length=120, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Set when the member's personal data was erased on request (members/privacy.py).
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)
    tier = models.ForeignKey(
        "communities.VipTier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier"),
    )
    tier_since = models.DateTimeField(_("tier since"), null=True, blank=True)
    # A cache of the ledger's sum, updated in the same transaction as every ledger row.
    points_balance = models.IntegerField(_("points"), default=0)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        indexes = [models.Index(fields=["organization", "display_name"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_balance__gte=0), name="member_points_never_negative"
            )
        ]

    def __str__(self):
        return self.display_name or f"#{self.pk}"


class MemberIdentity(TenantModel):
    """A member as one chat platform knows them."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="identities")
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    external_user_id = models.CharField(_("user id on the platform"), max_length=128)
    display_name = models.CharField(_("name"), max_length=120, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "external_user_id"],
                name="identity_unique_per_platform",
            )
        ]

    def __str__(self):
        return f"{self.get_platform_display()}:{self.external_user_id}"


class IdentityLink(TenantModel):
    """History of linking and unlinking identities between members."""

    identity = models.ForeignKey(MemberIdentity, on_delete=models.PROTECT, related_name="+")
    from_member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    to_member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(
        max_length=10, choices=[("link", _("linked")), ("unlink", _("unlinked"))]
    )
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)


class MembershipStatus(models.TextChoices):
    JOINED = "joined", _("Joined")
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", _("Active")
    WARNED = "warned", _("Warned")
    DORMANT = "dormant", _("Dormant")
    REMOVED = "removed", _("Removed")
    LEFT = "left", _("Left")


PRESENT_STATUSES = [
    MembershipStatus.JOINED,
    MembershipStatus.ONBOARDING,
    MembershipStatus.ACTIVE,
    MembershipStatus.WARNED,
    MembershipStatus.DORMANT,
]


class ChurnReason(models.TextChoices):
    CONTENT = "content_not_useful", _("Content not useful")
    ADS = "too_many_ads", _("Too many ads")
    NO_BENEFITS = "no_benefits", _("No benefits")
    OTHER = "other", _("Other")


class Membership(TenantModel):
    """A member (through one identity) in one group. Rejoining reuses the row; the history
    of every status lives in MembershipChange."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="memberships"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="memberships")
    identity = models.ForeignKey(MemberIdentity, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=MembershipStatus.choices,
        default=MembershipStatus.JOINED,
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    churn_reason = models.CharField(
        _("reason for leaving"), max_length=30, choices=ChurnReason.choices, blank=True
    )
    last_active_at = models.DateTimeField(_("last active"), null=True, blank=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    # flood detection: messages in the current window of the group's no_flood rule
    flood_window_start = models.DateTimeField(null=True, blank=True)
    flood_count = models.PositiveIntegerField(default=0)
    # onboarding checklist
    welcomed_at = models.DateTimeField(_("welcomed"), null=True, blank=True)
    introduced_at = models.DateTimeField(_("introduced themself"), null=True, blank=True)
    name_card_ok = models.BooleanField(_("name card valid"), default=False)
    coupon_issued_at = models.DateTimeField(_("new-member coupon issued"), null=True, blank=True)
    # dormant reminders
    dormant_since = models.DateTimeField(_("dormant since"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    reactivated_at = models.DateTimeField(_("reactivated"), null=True, blank=True)
    flags = models.JSONField(_("flags"), default=list, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "community", "identity"], name="membership_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "community", "status"]),
            models.Index(fields=["organization", "status", "last_active_at"]),
            models.Index(fields=["organization", "member"]),
            # the metrics' dormancy counts over a window, without scanning the whole group
            models.Index(
                fields=["organization", "community", "reactivated_at"],
                condition=Q(reactivated_at__isnull=False),
                name="membership_reactivated",
            ),
            models.Index(
                fields=["organization", "community", "last_reminded_at"],
                condition=Q(last_reminded_at__isnull=False),
                name="membership_reminded",
            ),
            # the home's newcomers, dormant members to wake and members to review: the oldest first
            # and how many, from small indexes, without reading every membership
            models.Index(
                fields=["organization", "dormant_since", "id"],
                condition=Q(status="dormant", reminders_sent=0),
                name="membership_to_wake",
            ),
            models.Index(
                fields=["organization", "joined_at", "id"],
                condition=~Q(flags=[]),
                name="membership_flagged",
            ),
            models.Index(
                fields=["organization", "joined_at", "id"],
                condition=Q(status__in=["joined", "onboarding"]),
                name="membership_newcomers",
            ),
        ]

    def __str__(self):
        group = self.community.name if Membership.community.is_cached(self) else self.community_id
        return f"{self.member} @ {group}"

    @property
    def flag_labels(self) -> list[str]:
        return [flag_label(flag) for flag in self.flags or []]


# What a membership's flags (set by the join checks) mean, as a person reads them.
FLAG_LABELS = {
    "blocked": _("On the block list"),
    "below_tier": _("Below the group's required tier"),
    "too_many_groups": _("In more groups of this kind than allowed"),
}


def flag_label(flag: str) -> str:
    """ "too_many_groups:general" → "In more 综合群 than allowed"; an unknown flag reads as a
    generic note, never as its code."""
    from communities.models import CommunityKind

    code, _sep, detail = str(flag).partition(":")
    if code == "too_many_groups" and detail in CommunityKind.values:
        return str(_("In more %(kind)s than allowed") % {"kind": CommunityKind(detail).label})
    return str(FLAG_LABELS.get(code, _("Needs a look")))


class MembershipChange(TenantModel):
    """Append-only history of a membership's status."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="changes")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=300, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "membership", "created_at"])]


class WakeUpArm(models.TextChoices):
    REMINDED = "reminded", _("Reminded")
    HOLDOUT = "holdout", _("Held out")


class WakeUpScan(TenantModel):
    """One dormant scan that found members due their first wake-up of a dormancy, and how it
    split them (members/holdout.py): the moment, the share it was asked to hold out, the
    counts it drew."""

    at = models.DateTimeField(_("scanned at"))
    holdout_percent = models.PositiveSmallIntegerField(_("holdout (%)"))
    reminded = models.PositiveIntegerField(_("reminded"), default=0)
    held_out = models.PositiveIntegerField(_("held out"), default=0)

    class Meta:
        verbose_name = _("wake-up scan")
        verbose_name_plural = _("wake-up scans")
        indexes = [models.Index(fields=["organization", "at"])]


class WakeUpAssignment(TenantModel):
    """A dormant membership drawn, at its first wake-up of one dormancy (`episode`: when it
    became dormant), into the reminded group or the holdout. Append-only; the metrics measure
    reactivation from `at` (the wake-up or hold-out moment), by `day` (the organization's
    local day of it)."""

    scan = models.ForeignKey(WakeUpScan, on_delete=models.PROTECT, related_name="assignments")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    episode = models.DateTimeField(_("dormant since"))
    arm = models.CharField(_("group"), max_length=10, choices=WakeUpArm.choices)
    at = models.DateTimeField(_("at"))
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("wake-up assignment")
        verbose_name_plural = _("wake-up assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "episode"], name="wakeup_once_per_dormancy"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "community", "day"]),
            models.Index(fields=["organization", "scan"]),
        ]


class RawEvent(TenantModel):
    """Every event a bot sent, as it came. Append-only; the client event id makes it idempotent.

    On PostgreSQL the table is partitioned by month of `occurred_at` (members/partitions.py),
    and a unique constraint must contain the partition key: the database enforces
    (organization, client event id, occurred at), and ingestion checks the client event id
    across every month before inserting (members/raw_events.py)."""

    client_event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    batch_id = models.UUIDField()
    api_key = models.ForeignKey(
        "tenancy.ApiKey", on_delete=models.PROTECT, null=True, related_name="+"
    )
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, null=True, related_name="+"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, related_name="+")
    payload = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "client_event_id", "occurred_at"],
                name="rawevent_idempotent",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "batch_id"]),
            models.Index(fields=["organization", "member", "occurred_at"]),
            models.Index(fields=["organization", "community", "type", "occurred_at"]),
        ]


class Warning(TenantModel):  # noqa: A001 - the domain's word
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="warnings")
    reason = models.CharField(_("reason"), max_length=40)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    actor_label = models.CharField(_("by"), max_length=200)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        indexes = [models.Index(fields=["organization", "membership", "expires_at"])]


class Block(TenantModel):
    """The org-wide block list (a member removed for ads). Lifted, never deleted."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="blocks")
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("blocked"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    actor_label = models.CharField(_("by"), max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member"],
                condition=Q(lifted_at=None),
                name="block_one_active_per_member",
            )
        ]


class CheckIn(TenantModel):
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()  # the organization's local day
    streak = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "day"], name="checkin_once_a_day"
            )
        ]


class Invite(TenantModel):
    """Someone invited someone into a group. Credited once the invitee has stayed long enough."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    inviter = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    invitee = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    credited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "community", "invitee"], name="invite_once_per_invitee"
            )
        ]


class PointsEntry(TenantModel):
    """The points ledger: append-only. A member's balance is the sum of their entries."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_entries")
    delta = models.IntegerField()
    reason = models.CharField(max_length=30)
    detail = models.CharField(max_length=200, blank=True)
    day = models.DateField()  # the organization's local day, for daily caps
    created_at = models.DateTimeField(default=timezone.now)
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "member", "reason", "day"])]


class ImportJob(TenantModel):
    """A CSV import of members, run in the background with progress and a per-row error report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(max_length=200)
    content = models.TextField()  # the uploaded CSV (at most a few MB); kept for re-runs
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": n, "errors": {...}}]
    created_by = models.ForeignKey(
        "tenancy.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    def __str__(self):
        return self.file_name


class TierChange(TenantModel):
    """History of a member's tier: promotions and demotions by the nightly job or by hand."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tier_changes")
    from_tier = models.ForeignKey(
        "communities.VipTier", on_delete=models.PROTECT, null=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        "communities.VipTier", on_delete=models.PROTECT, null=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "member", "created_at"])]


class MemberLink(TenantModel):
    """A personal link the bot delivers to one member: opened once, it starts a member session
    (members/access.py). Only the token's hash is stored."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64)
    target = models.CharField(max_length=200)  # the member page it opens, e.g. "c/12/"
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "member", "revoked_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "token_hash"], name="member_link_token_unique"
            )
        ]


class MemberSession(TenantModel):
    """A member signed in on a phone: by a personal link or a Telegram Mini App."""

    class Via(models.TextChoices):
        LINK = "link", _("personal link")
        TELEGRAM = "telegram", _("Telegram Mini App")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    key_hash = models.CharField(max_length=64)
    via = models.CharField(max_length=20, choices=Via.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "member", "revoked_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key_hash"], name="member_session_key_unique"
            )
        ]


class EntryReviewStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    APPROVED = "approved", _("Allowed to stay")
    REMOVED = "removed", pgettext_lazy("entry review", "Removed")
    CLOSED = "closed", _("Closed: no longer in the group")


class EntryReview(TenantModel):
    """Staff are asked to look at someone who joined a group without meeting its entry rules
    (below the group's VIP tier, or in more groups of a kind than the organization allows),
    where the group chose a staff review. Staff resolve it: the member stays, or is removed
    politely. Resolved reviews are kept."""

    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="entry_reviews"
    )
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    rule = models.CharField(_("entry rule"), max_length=60)  # the membership's flag
    reason = models.CharField(max_length=40)  # of a removal: below_tier, too_many_groups
    detail = models.CharField(_("detail"), max_length=300, blank=True)  # as members read it
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=EntryReviewStatus.choices,
        default=EntryReviewStatus.OPEN,
    )
    opened_at = models.DateTimeField(_("asked"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.CharField(_("by"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("entry review")
        verbose_name_plural = _("entry reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "rule"],
                condition=Q(status="open"),
                name="entry_review_one_open_per_rule",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "opened_at"]),
            models.Index(fields=["organization", "membership"]),
        ]

    def __str__(self):
        return f"{self.membership} · {flag_label(self.rule)}"

    @property
    def rule_label(self) -> str:
        return flag_label(self.rule)


class Leaving(TenantModel):
    """One member leaving one group, and why: the reason the bot reported with the event, or
    the member's own answer to the leaving survey (seed 002 §5.3), which replaces it. A rejoin
    and a second leave make a second row; a re-answer updates the row it answers."""

    class Source(models.TextChoices):
        NONE = "", _("Not given")
        BOT = "bot", _("Reported by the bot")
        MEMBER = "member", _("Answered by the member")

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="leavings")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    left_at = models.DateTimeField(_("left"))
    reason = models.CharField(
        _("reason for leaving"), max_length=30, choices=ChurnReason.choices, blank=True
    )
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    text = models.CharField(_("in their words"), max_length=300, blank=True)
    asked_at = models.DateTimeField(_("survey sent"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("leaving")
        verbose_name_plural = _("leavings")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "left_at"], name="leaving_once_per_leave"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "community", "left_at"]),
            models.Index(fields=["organization", "member"]),
        ]

    def __str__(self):
        return f"{self.member_id} @ {self.community_id} {self.left_at:%Y-%m-%d}"
