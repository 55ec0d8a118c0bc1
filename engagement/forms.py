from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Community

from .models import PollKind, QuestionKind
from .services import MAX_CHOICES

SURVEY_QUESTIONS = 5  # the form's rows; the service takes up to 10


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class PollForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=PollKind.choices,
        initial=PollKind.POLL,
        widget=forms.Select(attrs={"data-show-for": "kind"}),
    )
    title = forms.CharField(
        label=_("Question (a poll) or title (a survey)"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Which product should we try next?")}),
    )
    options = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, 2 to %(n)s; members reply with their number.")
        % {"n": MAX_CHOICES},
    )
    multiple = forms.BooleanField(label=_("Members may pick several"), required=False)
    group_replies = forms.BooleanField(
        label=_("Members may also vote by replying with the number in the group"),
        required=False,
        initial=True,
    )
    closes_at = forms.DateTimeField(
        label=_("Closes"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    communities = forms.ModelMultipleChoiceField(
        label=_("Post in these groups"),
        queryset=Community.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    POLL_FIELDS = ("options", "multiple", "group_replies")

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communities"].queryset = communities
        kind = self["kind"].value() or PollKind.POLL
        for n in range(1, SURVEY_QUESTIONS + 1):
            self.fields[f"q{n}_text"] = forms.CharField(
                label=_("Question %(n)s") % {"n": n}, max_length=200, required=False
            )
            self.fields[f"q{n}_kind"] = forms.ChoiceField(
                label=_("Answer with"),
                choices=QuestionKind.choices,
                initial=QuestionKind.SINGLE,
                required=False,
            )
            self.fields[f"q{n}_options"] = forms.CharField(
                label=_("Choices of question %(n)s") % {"n": n},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("One per line (not needed for a written answer)."),
            )
        # the survey's rows come before the closing time and the groups
        order = ["kind", "title", *self.POLL_FIELDS]
        order += [
            f"q{n}_{part}"
            for n in range(1, SURVEY_QUESTIONS + 1)
            for part in ("text", "kind", "options")
        ]
        self.order_fields([*order, "closes_at", "communities"])
        for name, field in self.fields.items():
            if name in self.POLL_FIELDS:
                kinds = PollKind.POLL
            elif name.startswith("q") and name[1:2].isdigit():
                kinds = PollKind.SURVEY
            else:
                continue
            field.show_when = {"field": "kind", "values": kinds}
            field.hidden_now = kind != kinds

    def questions(self) -> list[dict]:
        data = self.cleaned_data
        if data["kind"] == PollKind.POLL:
            kind = QuestionKind.MULTIPLE if data.get("multiple") else QuestionKind.SINGLE
            return [{"text": data["title"], "kind": kind, "choices": lines(data.get("options"))}]
        return [
            {
                "text": data.get(f"q{n}_text", ""),
                "kind": data.get(f"q{n}_kind") or QuestionKind.SINGLE,
                "choices": lines(data.get(f"q{n}_options")),
            }
            for n in range(1, SURVEY_QUESTIONS + 1)
        ]


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
