"""Polls, surveys and the suggestion box (seeds 001 §6 and 003: 投票, 问卷, 意见箱).

A poll is one question with numbered choices; a survey a few questions. Staff post either in
one or more groups (the bot posts it through the outbox, with the member page's address);
members answer on their page, or for a poll by replying with the choice's number in the
group. One response per member and poll (a unique constraint), none after the closing time.
The suggestion box is the organization's: members leave ideas on their page, staff reply,
and the reply reaches the member through the bot.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantModel


class PollKind(models.TextChoices):
    POLL = "poll", _("Poll")
    SURVEY = "survey", _("Survey")


class PollStatus(models.TextChoices):
    OPEN = "open", _("Open for answers")
    CLOSED = "closed", _("Closed")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    TEXT = "text", _("Written answer")


class ResponseVia(models.TextChoices):
    PAGE = "page", _("On the member page")
    GROUP = "group", _("Replied in the group")


class Poll(TenantModel):
    kind = models.CharField(_("kind"), max_length=10, choices=PollKind.choices)
    # a poll's question, or a survey's title
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=PollStatus.choices, default=PollStatus.OPEN
    )
    closes_at = models.DateTimeField(_("closes"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # a poll's members may also answer by replying with a choice's number in the group
    group_replies = models.BooleanField(_("answers by replying in the group"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        indexes = [
            models.Index(fields=["organization", "status", "closes_at"]),
            models.Index(fields=["organization", "-created_at"]),
        ]

    def __str__(self):
        return self.title

    def is_open(self, now=None) -> bool:
        return self.status == PollStatus.OPEN and (now or timezone.now()) < self.closes_at


class PollTarget(TenantModel):
    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="targets")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "poll", "community"], name="polltarget_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "community"])]


class Question(TenantModel):
    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="questions")
    position = models.PositiveSmallIntegerField()  # 1, 2, … in the order shown
    text = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "poll", "position"], name="question_position_unique"
            )
        ]

    def __str__(self):
        return self.text


class Choice(TenantModel):
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="choices")
    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="+")
    # the number members reply with in the group: 1, 2, …
    position = models.PositiveSmallIntegerField()
    text = models.CharField(_("choice"), max_length=100)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "question", "position"], name="choice_position_unique"
            )
        ]

    def __str__(self):
        return self.text


class Response(TenantModel):
    """One member's answers to one poll or survey: at most one each."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="responses")
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("group"),
    )
    via = models.CharField(_("answered"), max_length=10, choices=ResponseVia.choices)
    source_event_id = models.CharField(max_length=100, blank=True)  # the group reply's event
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "poll", "member"], name="response_one_per_member"
            )
        ]
        indexes = [models.Index(fields=["organization", "member"])]


class Answer(TenantModel):
    """A chosen choice (one row per choice) or a written answer, of one response."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="answers")
    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    choice = models.ForeignKey(Choice, on_delete=models.PROTECT, null=True, related_name="+")
    text = models.TextField(_("answer"), blank=True, max_length=1000)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "response", "question", "choice"],
                condition=Q(choice__isnull=False),
                name="answer_choice_once",
            ),
            models.UniqueConstraint(
                fields=["organization", "response", "question"],
                condition=Q(choice__isnull=True),
                name="answer_text_once",
            ),
        ]
        indexes = [models.Index(fields=["organization", "poll", "question"])]


class SuggestionStatus(models.TextChoices):
    NEW = "new", _("Waiting for a reply")
    REPLIED = "replied", _("Replied")


class Suggestion(TenantModel):
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    # the group the member wrote from (their first group), for staff to see where it comes from
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    text = models.TextField(_("idea"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.NEW
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(fields=["organization", "member"]),
        ]

    def __str__(self):
        return self.text[:50]


class SuggestionReply(TenantModel):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.PROTECT, related_name="replies")
    text = models.TextField(_("reply"), max_length=1000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    # whether the bot was asked to pass it on (the member has an identity it can reach)
    sent = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]
