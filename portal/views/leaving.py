"""The leaving survey (seed 002 §5.3): a member who left a group says why, with one tap. The
link reaches them after they left: a member session does not need them to be in a group.
Members' own leavings only (another's is a 404); `members.leaving` owns the answer."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation

from integrations.composer import MessageKind, compose
from members import leaving as leavings
from members.models import ChurnReason, Leaving

from ..session import member_page


def _say(org, kind, leaving, **context) -> str:
    return compose(
        kind,
        context,
        language=translation.get_language(),
        org=org,
        community_id=leaving.community_id,
    )


@member_page()
def leaving_page(request, org, pk):
    leaving = get_object_or_404(
        Leaving.objects.for_org(org).select_related("community", "member"),
        pk=pk,
        member=request.member,
    )
    community = leaving.community.name
    errors = {}
    chosen, text = leaving.reason, leaving.text
    if request.method == "POST":
        chosen, text = request.POST.get("reason", ""), request.POST.get("text", "")
        try:
            leavings.leaving_answer(
                actor=request.member_actor, leaving=leaving, reason=chosen, text=text
            )
        except ValidationError as invalid:
            errors = (
                invalid.message_dict
                if hasattr(invalid, "error_dict")
                else {"__all__": invalid.messages}
            )
        else:
            return redirect("member-leaving", org=org.slug, pk=leaving.pk)
    answered = leaving.answered_at is not None and not errors
    choices = [
        {
            "letter": "ABCD"[i],
            "value": code,
            "text": _say(org, MessageKind.LEAVING_CHOICE, leaving, reason=code),
        }
        for i, code in enumerate(ChurnReason.values)
    ]
    return render(
        request,
        "portal/leaving.html",
        {
            "org": org,
            "member": request.member,
            "leaving": leaving,
            "question": _say(org, MessageKind.LEAVING_QUESTION, leaving, community=community),
            "thanks": _say(org, MessageKind.LEAVING_THANKS, leaving, community=community),
            "choices": choices,
            "chosen": chosen,
            "text": text,
            "errors": errors,
            "non_field_errors": errors.get("__all__", []),
            "answered": answered,
            "open": leavings.may_answer(leaving),
            "text_max": leavings.TEXT_MAX,
        },
        status=400 if errors else 200,
    )
