"""Polls, surveys and the suggestion box on the member's phone (engagement owns the data and
every change; these pages read it and call its services as `Actor.for_member`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import ratelimit
from engagement import selectors, services
from engagement.models import Poll, Question, QuestionKind

from ..session import member_page

# Ideas a member may leave per hour (the box is for ideas, not for chatting).
IDEA_LIMIT, IDEA_WINDOW = 5, 3600


def _keyword() -> str:
    """What a visitor without a session sends the bot for their link to the polls."""
    return "polls" if translation.get_language() == "en" else "投票"


def _idea_keyword() -> str:
    return "ideas" if translation.get_language() == "en" else "建议"


def _poll(org, pk) -> Poll:
    return get_object_or_404(Poll.objects.for_org(org), pk=pk)


def _results_context(org, poll, member) -> dict:
    """The results, when this visitor may see them: after answering, or once closed."""
    response = selectors.my_response(poll, member)
    is_open = poll.is_open()
    shown = response is not None or not is_open
    return {
        "org": org,
        "poll": poll,
        "member": member,
        "response": response,
        "is_open": is_open,
        "results": services.tally(poll) if shown else None,
    }


@member_page(signed_in=False)
def polls(request, org):
    """The polls of the member's groups; a visitor is told how to get their link."""
    member = request.member
    return render(
        request,
        "portal/polls.html",
        {
            "org": org,
            "member": member,
            "rows": selectors.member_polls(org, member) if member is not None else [],
            "keyword": _keyword(),
        },
    )


@member_page(signed_in=False)
def poll_page(request, org, pk):
    poll = _poll(org, pk)
    member = request.member
    context = _results_context(org, poll, member)
    context.update(
        questions=Question.objects.for_org(org).filter(poll=poll).prefetch_related("choices"),
        group=services.member_group(poll, member) if member is not None else None,
        keyword=_keyword(),
    )
    return render(request, "portal/poll.html", context)


@require_GET
@member_page(signed_in=False)
def poll_results(request, org, pk):
    """The results box, refreshed every few seconds on the poll's page (htmx)."""
    poll = _poll(org, pk)
    return render(request, "portal/_poll_results.html", _results_context(org, poll, request.member))


def _answers_from(request, poll) -> dict:
    answers = {}
    for question in Question.objects.for_org(poll.organization).filter(poll=poll):
        name = f"q{question.pk}"
        if question.kind == QuestionKind.TEXT:
            answers[question.pk] = request.POST.get(name, "")
        else:
            answers[question.pk] = request.POST.getlist(name)
    return answers


@require_POST
@member_page()
def poll_answer(request, org, pk):
    poll = _poll(org, pk)
    try:
        services.poll_answer(
            actor=request.member_actor,
            poll=poll,
            member=request.member,
            answers=_answers_from(request, poll),
        )
    except services.AnswerRefused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, _("Thank you! Your answer is counted."))
    return redirect("member-poll", org=org.slug, pk=poll.pk)


@member_page(signed_in=False)
def ideas(request, org):
    """The organization's suggestion box: leave an idea, read staff's replies. A visitor is
    told how to get their link (and cannot post)."""
    member = request.member
    if member is None:
        if request.method != "GET":
            raise Http404
        context = {"org": org, "member": None, "ideas": [], "keyword": _idea_keyword()}
        return render(request, "portal/ideas.html", context)
    text = ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        allowed = ratelimit.hit(
            "member-idea", f"{org.pk}:{member.pk}", limit=IDEA_LIMIT, window=IDEA_WINDOW
        ).allowed
        if not allowed:
            messages.error(request, _("That is a lot of ideas at once; try again in an hour."))
        else:
            try:
                services.suggestion_create(actor=request.member_actor, member=member, text=text)
            except ValidationError as invalid:
                messages.error(request, " ".join(invalid.messages))
            else:
                messages.success(request, _("Thank you! Staff read every idea."))
                return redirect("member-ideas", org=org.slug)
    return render(
        request,
        "portal/ideas.html",
        {
            "org": org,
            "member": member,
            "ideas": selectors.suggestions_of(org, member)[:30],
            "text": text,
        },
    )
