"""Answers replied in the group: a `message.posted` whose whole text is a choice's number
("2", or "1 3" for several choices) answers the newest open poll of that group that takes
replies. Called by the ingestion edge after the other apps' stages, in the same transaction.

Set-based like the rest of ingestion: no query at all for a batch without such a message, a
constant number for one with any number of them. The same rules as the page: one response per
member and poll (the unique constraint; a later reply is ignored, also a racing one), nothing
after the closing time, the numbers must be the poll's choices (one of them unless several may
be chosen). Anything else is an ordinary message and left alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from django.utils import timezone

from integrations.event_schema import EventBatch

from .models import (
    Answer,
    Choice,
    PollKind,
    PollStatus,
    PollTarget,
    QuestionKind,
    Response,
    ResponseVia,
)

# Digits separated by spaces, commas or the like; full-width digits are folded first.
VOTE = re.compile(r"^\d{1,2}(?:[\s,，、;；/]+\d{1,2})*$")
SEPARATORS = re.compile(r"[\s,，、;；/]+")


def numbers_in(text: str | None) -> list[int] | None:
    """The choice numbers a message consists of, in order and without repeats, or None when
    it is not a vote ("2" → [2]; "1，3" → [1, 3]; "我选2" → None)."""
    if not text or len(text) > 40:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    if not VOTE.match(folded):
        return None
    return list(dict.fromkeys(int(part) for part in SEPARATORS.split(folded)))


class PollEvents:
    def __init__(self, batch: EventBatch):
        self.batch = batch
        self.votes: list = []  # [(event, numbers)]

    @classmethod
    def load(cls, batch: EventBatch) -> PollEvents:
        return cls(batch)

    def handlers(self) -> dict[str, Callable]:
        return {"message.posted": self.on_message_posted}

    def on_message_posted(self, event) -> None:
        numbers = numbers_in(event.text)
        if numbers:
            self.votes.append((event, numbers))

    def flush(self) -> int:
        """Record the group's answers; returns how many responses were recorded."""
        if not self.votes:
            return 0
        return _record(self.batch, self.votes)


def _newest_open_polls(org, community_ids, now) -> dict:
    """{community id: the newest open poll there that takes replies}."""
    newest: dict = {}
    targets = (
        PollTarget.objects.for_org(org)
        .filter(
            community_id__in=community_ids,
            poll__status=PollStatus.OPEN,
            poll__kind=PollKind.POLL,
            poll__group_replies=True,
            poll__closes_at__gt=now,
        )
        .select_related("poll")
        .order_by("community_id", "-poll__created_at", "-poll_id")
    )
    for target in targets:
        newest.setdefault(target.community_id, target.poll)
    return newest


def _record(batch, votes) -> int:
    org, now = batch.organization, timezone.now()
    polls = _newest_open_polls(org, {batch.community(e).pk for e, _n in votes}, now)
    if not polls:
        return 0
    choices: dict = {}  # {poll id: {number: Choice}}
    kinds: dict = {}  # {poll id: question kind}
    for choice in (
        Choice.objects.for_org(org)
        .filter(poll_id__in={p.pk for p in polls.values()})
        .select_related("question")
    ):
        choices.setdefault(choice.poll_id, {})[choice.position] = choice
        kinds[choice.poll_id] = choice.question.kind
    member_ids = {batch.identity(e).member_id for e, _n in votes}
    answered = set(
        Response.objects.for_org(org)
        .filter(poll_id__in={p.pk for p in polls.values()}, member_id__in=member_ids)
        .values_list("poll_id", "member_id")
    )
    picked: dict = {}  # {event id: [Choice]}
    responses = []
    for event, numbers in votes:
        community = batch.community(event)
        poll = polls.get(community.pk)
        if poll is None or event.occurred_at >= poll.closes_at:
            continue
        member_id = batch.identity(event).member_id
        options = choices.get(poll.pk, {})
        if (poll.pk, member_id) in answered or not set(numbers) <= options.keys():
            continue
        if kinds.get(poll.pk) == QuestionKind.SINGLE and len(numbers) != 1:
            continue
        answered.add((poll.pk, member_id))  # the member's first vote in the batch counts
        picked[event.id] = [options[n] for n in numbers]
        responses.append(
            Response(
                organization=org,
                poll=poll,
                member_id=member_id,
                community=community,
                via=ResponseVia.GROUP,
                source_event_id=event.id,
                created_at=event.occurred_at,
            )
        )
    if not responses:
        return 0
    # A racing page answer or batch that got there first wins; this one is then ignored.
    Response.objects.bulk_create(responses, ignore_conflicts=True)
    saved = list(
        Response.objects.for_org(org).filter(
            poll_id__in={r.poll_id for r in responses}, source_event_id__in=list(picked)
        )
    )
    Answer.objects.bulk_create(
        [
            Answer(
                organization=org,
                response=response,
                poll_id=response.poll_id,
                question_id=choice.question_id,
                choice=choice,
            )
            for response in saved
            for choice in picked[response.source_event_id]
        ]
    )
    return len(saved)
