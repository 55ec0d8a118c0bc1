"""Every change of polls, surveys and suggestions.

- `poll_create`: staff post a poll or a short survey in their groups; the bot posts it there
  (an `group.announce` action per group, composed by integrations.composer, with the poll's
  page for everyone).
- `poll_answer`: a member answers on their page (or staff for them); one response per member
  (the database's `response_one_per_member`), none after the closing time. Answers replied in
  the group arrive through the events (engagement/batch.py), with the same rules.
- `poll_close` / `close_due`: closing by hand or at the closing time (beat); the results are
  posted in the groups.
- `suggestion_create` / `suggestion_reply`: the organization's suggestion box; a reply reaches
  the member through the bot.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Community, CommunityStatus
from core.text import clean_text
from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from members.access import personal_link, public_page_url
from members.hooks import PrivacySection
from members.models import PRESENT_STATUSES, Membership
from members.selectors import address, addressees
from tenancy import audit
from tenancy.actors import Actor
from tenancy.permissions import can, require, require_for

from .models import (
    Answer,
    Choice,
    Poll,
    PollKind,
    PollStatus,
    PollTarget,
    Question,
    QuestionKind,
    Response,
    ResponseVia,
    Suggestion,
    SuggestionReply,
    SuggestionStatus,
)

MAX_GROUPS = 50
MAX_CHOICES = 10
MAX_QUESTIONS = 10
MIN_OPEN = timedelta(minutes=5)
MAX_OPEN = timedelta(days=90)
MAX_TEXT = 1000
IDEA_EXCERPT = 30


class AnswerRefused(Exception):
    """A member may not answer (any more): `code` for tests and the API, `message` for people.
    Codes: closed, not_in_group, already_answered."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _clean_text(value, field, *, limit, required=True) -> str:
    return clean_text(value, field, limit=limit, required=required)


# --- creating ----------------------------------------------------------------------------------


def _clean_choices(texts, field) -> list[str]:
    choices = [str(t).strip() for t in texts or [] if str(t).strip()]
    if not 2 <= len(choices) <= MAX_CHOICES:
        raise ValidationError(
            {field: [_("Give from 2 to %(n)s choices, one per line.") % {"n": MAX_CHOICES}]}
        )
    if len({c.casefold() for c in choices}) != len(choices):
        raise ValidationError({field: [_("Each choice must be different.")]})
    for text in choices:
        _clean_text(text, field, limit=100)
    return choices


def _clean_questions(kind, title, questions) -> list[dict]:
    """[{"text", "kind", "choices"}]: a poll has one choice question (its title); a survey
    1–10 questions, each a choice or a written answer."""
    cleaned = []
    if kind == PollKind.POLL:
        if len(questions) != 1:
            raise ValidationError({"options": [_("A poll has one question.")]})
        question = questions[0]
        qkind = question.get("kind", QuestionKind.SINGLE)
        if qkind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            raise ValidationError({"options": [_("Choose one of the listed options.")]})
        return [
            {
                "text": title,
                "kind": qkind,
                "choices": _clean_choices(question["choices"], "options"),
            }
        ]
    # blank rows are skipped; errors name the row as it was given (q3_options: the third)
    numbered = [
        (index, q) for index, q in enumerate(questions, start=1) if (q.get("text") or "").strip()
    ]
    if not 1 <= len(numbered) <= MAX_QUESTIONS:
        raise ValidationError(
            {"questions": [_("A survey has from 1 to %(n)s questions.") % {"n": MAX_QUESTIONS}]}
        )
    for index, question in numbered:
        field = f"q{index}"
        qkind = question.get("kind")
        if qkind not in QuestionKind.values:
            raise ValidationError({f"{field}_kind": [_("Choose one of the listed options.")]})
        text = _clean_text(question["text"], f"{field}_text", limit=200)
        choices = []
        if qkind != QuestionKind.TEXT:
            choices = _clean_choices(question.get("choices"), f"{field}_options")
        cleaned.append({"text": text, "kind": qkind, "choices": choices})
    return cleaned


def _targets(actor, communities) -> list:
    org = actor.organization
    communities = list(dict.fromkeys(communities or []))
    if not 1 <= len(communities) <= MAX_GROUPS:
        raise ValidationError(
            {"communities": [_("Choose from 1 to %(n)s groups.") % {"n": MAX_GROUPS}]}
        )
    for community in communities:
        if community.organization_id != org.pk:
            raise ValidationError(_("That object belongs to another organization."))
        if community.status != CommunityStatus.ACTIVE:
            raise ValidationError(
                {"communities": [_("%(group)s is archived.") % {"group": community.name}]}
            )
        require(actor, "engagement.manage", community)
    return communities


def poll_create(
    *, actor, kind, title, communities, closes_at, questions, group_replies=True
) -> Poll:
    """Post a poll (`questions`: one, with its choices) or a survey (a few questions) in the
    groups, open until `closes_at`."""
    org = actor.organization
    if kind not in PollKind.values:
        raise ValidationError({"kind": [_("Choose one of the listed options.")]})
    title = _clean_text(title, "title", limit=200)
    communities = _targets(actor, communities)
    now = timezone.now()
    if closes_at is None or closes_at < now + MIN_OPEN:
        raise ValidationError({"closes_at": [_("Close it at least 5 minutes from now.")]})
    if closes_at > now + MAX_OPEN:
        raise ValidationError({"closes_at": [_("Close it within 90 days.")]})
    questions = _clean_questions(kind, title, list(questions or []))
    with transaction.atomic():
        poll = Poll.objects.create(
            organization=org,
            kind=kind,
            title=title,
            closes_at=closes_at,
            group_replies=bool(group_replies) and kind == PollKind.POLL,
            created_by=actor.user,
            created_at=now,
        )
        PollTarget.objects.bulk_create(
            [PollTarget(organization=org, poll=poll, community=c) for c in communities]
        )
        for position, spec in enumerate(questions, start=1):
            question = Question.objects.create(
                organization=org, poll=poll, position=position, text=spec["text"], kind=spec["kind"]
            )
            Choice.objects.bulk_create(
                [
                    Choice(organization=org, question=question, poll=poll, position=n, text=text)
                    for n, text in enumerate(spec["choices"], start=1)
                ]
            )
        _announce(poll, communities, _poll_text(poll, questions))
        audit.record(actor=actor, action="poll.create", obj=poll, summary=title)
    return poll


def poll_page_url(poll) -> str:
    return public_page_url(poll.organization, f"p/{poll.pk}/")


def poll_context(poll, questions=None) -> dict:
    """What the POLL message says (integrations.composer): `questions` as `poll_create` cleaned
    them, or read back from the poll."""
    org = poll.organization
    if questions is None:
        questions = [
            {"kind": q.kind, "choices": [c.text for c in q.choices.all()]}
            for q in Question.objects.for_org(org).filter(poll=poll).prefetch_related("choices")
        ]
    context = {
        "poll_kind": poll.kind,
        "title": poll.title,
        "closes": timezone.localtime(poll.closes_at, org.tzinfo).strftime("%m-%d %H:%M"),
        "link": poll_page_url(poll),
        "questions": len(questions),
    }
    if poll.kind == PollKind.POLL:
        context.update(
            options=questions[0]["choices"],
            multiple=questions[0]["kind"] == QuestionKind.MULTIPLE,
            replies=poll.group_replies,
        )
    return context


def _poll_text(poll, questions) -> str:
    return compose(
        MessageKind.POLL,
        poll_context(poll, questions),
        language=poll.organization.default_language,
    )


def _announce(poll, communities, text) -> None:
    outbox.enqueue_all(
        [
            outbox.build(
                organization=poll.organization,
                kind=ActionKind.ANNOUNCE,
                community=community,
                text=text,
                poll_id=poll.pk,
            )
            for community in communities
        ]
    )


# --- answering ---------------------------------------------------------------------------------


def member_group(poll, member):
    """The first of the poll's groups the member is in now, or None."""
    org = poll.organization
    membership = (
        Membership.objects.for_org(org)
        .filter(
            member=member,
            status__in=PRESENT_STATUSES,
            community_id__in=PollTarget.objects.for_org(org)
            .filter(poll=poll)
            .values("community_id"),
        )
        .select_related("community")
        .order_by("community_id")
        .first()
    )
    return membership.community if membership else None


def _clean_answers(poll, answers: dict) -> list[Answer]:
    """Answer rows (unsaved, without their response) for {question id: [choice ids] or text};
    every question must be answered."""
    org = poll.organization
    rows = []
    questions = list(Question.objects.for_org(org).filter(poll=poll).prefetch_related("choices"))
    for question in questions:
        field = f"q{question.pk}"
        given = answers.get(question.pk, answers.get(str(question.pk)))
        if question.kind == QuestionKind.TEXT:
            text = _clean_text(given if isinstance(given, str) else "", field, limit=MAX_TEXT)
            rows.append(Answer(organization=org, poll=poll, question=question, text=text))
            continue
        picked = given if isinstance(given, list | tuple | set) else [given]
        ids = set()
        for value in picked:
            if value in (None, ""):
                continue
            try:
                ids.add(int(value))
            except (TypeError, ValueError):
                raise ValidationError({field: [_("Choose one of the listed options.")]}) from None
        choices = {c.pk: c for c in question.choices.all()}
        if not ids:
            raise ValidationError({field: [_("Choose an answer.")]})
        if not ids <= choices.keys():
            raise ValidationError({field: [_("Choose one of the listed options.")]})
        if question.kind == QuestionKind.SINGLE and len(ids) != 1:
            raise ValidationError({field: [_("Choose one answer.")]})
        rows += [
            Answer(organization=org, poll=poll, question=question, choice=choices[pk])
            for pk in sorted(ids)
        ]
    return rows


def poll_answer(*, actor, poll, member, answers: dict) -> Response:
    """A member's answers: {question id: [choice id, …] or text}. Raises AnswerRefused (closed,
    not in the poll's groups, already answered) or ValidationError (an answer missing or not
    among the choices)."""
    org = poll.organization
    if member.organization_id != org.pk:
        raise ValidationError(_("That object belongs to another organization."))
    community = member_group(poll, member)
    if actor.member is not None:
        require_for(actor, "engagement.manage", member)
    else:
        require(actor, "engagement.manage", community)
    if not poll.is_open():
        raise AnswerRefused("closed", _("This poll is closed."))
    if community is None:
        raise AnswerRefused("not_in_group", _("This poll is for members of its groups."))
    rows = _clean_answers(poll, answers)
    try:
        with transaction.atomic():
            response = Response.objects.create(
                organization=org,
                poll=poll,
                member=member,
                community=community,
                via=ResponseVia.PAGE,
            )
            for row in rows:
                row.response = response
            Answer.objects.bulk_create(rows)
    except IntegrityError:
        raise AnswerRefused("already_answered", _("You have answered already.")) from None
    return response


# --- closing -------------------------------------------------------------------------------------


def tally(poll) -> dict:
    """{"total": people who answered, "questions": [{"question", "rows": [{"choice", "votes"}],
    "texts": written answers (the latest 50)}]}: three queries for any size."""
    org = poll.organization
    total = Response.objects.for_org(org).filter(poll=poll).count()
    votes = dict(
        Answer.objects.for_org(org)
        .filter(poll=poll, choice__isnull=False)
        .values("choice_id")
        .annotate(n=Count("pk"))
        .values_list("choice_id", "n")
    )
    questions = []
    for question in Question.objects.for_org(org).filter(poll=poll).prefetch_related("choices"):
        rows = [
            {
                "choice": c,
                "votes": votes.get(c.pk, 0),
                "share": votes.get(c.pk, 0) / total if total else 0,
            }
            for c in question.choices.all()
        ]
        texts = []
        if question.kind == QuestionKind.TEXT:
            texts = list(
                Answer.objects.for_org(org)
                .filter(question=question)
                .exclude(text="")
                .select_related("response__member")
                .order_by("-pk")[:50]
            )
        questions.append({"question": question, "rows": rows, "texts": texts})
    return {"total": total, "questions": questions}


def results_context(poll) -> dict:
    """What the POLL_RESULTS message says: who answered and, for a poll, each choice's votes."""
    figures = tally(poll)
    context = {"poll_kind": poll.kind, "title": poll.title, "total": figures["total"]}
    if poll.kind == PollKind.POLL:
        context["rows"] = [
            {"text": row["choice"].text, "votes": row["votes"]}
            for row in figures["questions"][0]["rows"]
        ]
    return context


def _results_text(poll) -> str:
    return compose(
        MessageKind.POLL_RESULTS,
        results_context(poll),
        language=poll.organization.default_language,
    )


def _close(actor, poll, at) -> None:
    poll.status, poll.closed_at = PollStatus.CLOSED, at
    poll.save(update_fields=["status", "closed_at"])
    communities = [
        t.community
        for t in PollTarget.objects.for_org(poll.organization)
        .filter(poll=poll)
        .select_related("community")
    ]
    _announce(poll, communities, _results_text(poll))
    audit.record(actor=actor, action="poll.close", obj=poll, summary=poll.title)


def can_manage_poll(actor, poll) -> bool:
    if can(actor, "engagement.manage"):
        return True
    targets = PollTarget.objects.for_org(poll.organization).filter(poll=poll)
    communities = Community.objects.for_org(poll.organization).filter(
        pk__in=targets.values("community_id")
    )
    return all(can(actor, "engagement.manage", c) for c in communities)


def poll_close(*, actor, poll) -> Poll:
    """Close now (before its closing time) and post the results in its groups."""
    if not can_manage_poll(actor, poll):
        require(actor, "engagement.manage")  # raises
    with transaction.atomic():
        poll = Poll.objects.for_org(actor.organization).select_for_update().get(pk=poll.pk)
        if poll.status == PollStatus.CLOSED:
            raise ValidationError(_("This poll is closed."))
        _close(actor, poll, timezone.now())
    return poll


def close_due(org, now=None) -> int:
    """Close the polls whose closing time has come and post their results (beat, every
    minute). Two workers never close one poll twice: rows are claimed with skip_locked."""
    now = now or timezone.now()
    actor = Actor.system(org, _("closing time"))
    closed = 0
    while True:
        with transaction.atomic():
            polls = list(
                Poll.objects.for_org(org)
                .filter(status=PollStatus.OPEN, closes_at__lte=now)
                .select_for_update(skip_locked=True)
                .order_by("closes_at", "pk")[:50]
            )
            if not polls:
                return closed
            for poll in polls:
                poll.organization = org  # already loaded: no query per poll
                _close(actor, poll, poll.closes_at)
            closed += len(polls)


# --- the suggestion box ----------------------------------------------------------------------


def suggestion_create(*, actor, member, text) -> Suggestion:
    """A member leaves an idea in the organization's suggestion box (on their page)."""
    require_for(actor, "engagement.manage", member)
    text = _clean_text(text, "text", limit=MAX_TEXT)
    org = member.organization
    membership = (
        Membership.objects.for_org(org)
        .filter(member=member, status__in=PRESENT_STATUSES)
        .order_by("pk")
        .first()
    )
    return Suggestion.objects.create(
        organization=org,
        member=member,
        community_id=membership.community_id if membership else None,
        text=text,
    )


def reply_context(suggestion, text, link="") -> dict:
    """What the SUGGESTION_REPLY message says: the start of the idea, staff's words, the
    member's own link to their ideas."""
    idea = suggestion.text[:IDEA_EXCERPT] + ("…" if len(suggestion.text) > IDEA_EXCERPT else "")
    return {"idea": idea, "text": text, "link": link}


def suggestion_reply(*, actor, suggestion, text) -> SuggestionReply:
    """Staff answer a suggestion: the reply shows on the member's page and the bot sends it to
    them (a `member.notify` action) when it can reach them. `reply.sent` says whether it could."""
    require(actor, "engagement.manage")
    text = _clean_text(text, "text", limit=MAX_TEXT)
    org = actor.organization
    with transaction.atomic():
        suggestion = (
            Suggestion.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("member", "community")
            .get(pk=suggestion.pk)
        )
        member, community = suggestion.member, suggestion.community
        identity = addressees(org, [member.pk], community.platform if community else None).get(
            member.pk
        )
        now = timezone.now()
        reply = SuggestionReply.objects.create(
            organization=org,
            suggestion=suggestion,
            text=text,
            author=actor.user,
            author_label=str(actor.label)[:200],
            created_at=now,
            sent=identity is not None,
        )
        if identity is not None:
            message = compose(
                MessageKind.SUGGESTION_REPLY,
                reply_context(suggestion, text, personal_link(member, "ideas/")),
                language=org.default_language,
            )
            outbox.enqueue(
                organization=org,
                kind=ActionKind.NOTIFY,
                member=member,
                text=message,
                community_external_id=community.external_id if community else None,
                **address(identity, member),
            )
        suggestion.status, suggestion.replied_at = SuggestionStatus.REPLIED, now
        suggestion.save(update_fields=["status", "replied_at"])
        audit.record(actor=actor, action="suggestion.reply", obj=suggestion, summary=text[:200])
    return reply


# --- members' data ----------------------------------------------------------------------------


def privacy_sections(*, org, member) -> list:
    """What this app keeps about a member, for their export and erasure (registered on
    `members.hooks`): their responses and written answers, their ideas and staff's replies."""
    return [
        PrivacySection("poll_responses", Response.objects.for_org(org).filter(member=member)),
        PrivacySection(
            "poll_answers",
            Answer.objects.for_org(org).filter(response__member=member),
            text_fields=("text",),
        ),
        PrivacySection(
            "suggestions",
            Suggestion.objects.for_org(org).filter(member=member),
            text_fields=("text",),
        ),
        PrivacySection(
            "suggestion_replies",
            SuggestionReply.objects.for_org(org).filter(suggestion__member=member),
            fields=["id", "suggestion_id", "text", "created_at"],
            text_fields=("text",),
        ),
    ]


def responses_move_to(*, org, from_member, to_member) -> int:
    """A merged member's responses and ideas belong to the surviving member (registered on
    `members.hooks.member_merged`). Where both answered the same poll, the survivor's answer
    stands and the other stays with the merged member."""
    answered = Response.objects.for_org(org).filter(member=to_member).values("poll_id")
    moved = (
        Response.objects.for_org(org)
        .filter(member=from_member)
        .exclude(poll_id__in=answered)
        .update(member=to_member)
    )
    Suggestion.objects.for_org(org).filter(member=from_member).update(member=to_member)
    return moved
