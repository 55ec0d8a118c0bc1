from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import CommunityKind
from tenancy.roles import CommunityRole

from .models import MAX_QUOTA, DutyMeasure, DutyPeriod, GoalFigure


def _show_when(form, on, fields: dict, default) -> None:
    """Fields that belong to some values of `on` only (app.js shows them for those)."""
    current = form[on].value() or default
    for name, values in fields.items():
        field = form.fields[name]
        field.show_when = {"field": on, "values": " ".join(values)}
        field.hidden_now = current not in values


class DutyForm(forms.Form):
    title = forms.CharField(
        label=_("Duty"),
        max_length=100,
        help_text=_("As the team says it, e.g. “3 interactions a week”."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=CommunityRole.choices)
    community = forms.TypedChoiceField(
        label=_("Group"), required=False, coerce=int, empty_value=None
    )
    measure = forms.ChoiceField(label=_("Counted from"), choices=DutyMeasure.choices)
    quota = forms.IntegerField(
        label=_("Quota"),
        min_value=1,
        max_value=MAX_QUOTA,
        help_text=_("How many each period; for greetings, the percentage of newcomers."),
    )
    period = forms.ChoiceField(label=_("Every"), choices=DutyPeriod.choices)
    within_hours = forms.IntegerField(
        label=_("Greet within (hours)"), min_value=1, max_value=72, initial=2, required=False
    )

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("Every group of the role")), *communities]
        _show_when(self, "measure", {"within_hours": (DutyMeasure.GREETINGS,)}, DutyMeasure.POSTS)


class TickForm(forms.Form):
    community = forms.IntegerField(min_value=1, max_value=2**62)
    user = forms.IntegerField(min_value=1, max_value=2**62, required=False)
    day = forms.DateField(required=False)
    count = forms.IntegerField(min_value=1, max_value=100, required=False)
    note = forms.CharField(max_length=200, required=False)


class GoalForm(forms.Form):
    figure = forms.ChoiceField(label=_("Figure"), choices=GoalFigure.choices)
    community = forms.TypedChoiceField(
        label=_("Group"), required=False, coerce=int, empty_value=None
    )
    target = forms.DecimalField(
        label=_("Target"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Rates in percent (40 for 40%), revenue in yuan, the rest as a count."),
    )
    due_on = forms.DateField(label=_("Target date"), widget=forms.DateInput(attrs={"type": "date"}))
    loyal_days = forms.IntegerField(
        label=_("Loyal: active on at least … of the last 30 days"),
        min_value=1,
        max_value=30,
        initial=8,
        required=False,
    )
    group_kind = forms.ChoiceField(
        label=_("Count only groups of the kind"),
        choices=[("", _("Every kind")), *CommunityKind.choices],
        required=False,
    )

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("Whole organization")), *communities]
        _show_when(
            self,
            "figure",
            {"loyal_days": (GoalFigure.LOYAL,), "group_kind": (GoalFigure.GROUPS,)},
            GoalFigure.MEMBERS,
        )


class RaiseForm(forms.Form):
    target = forms.DecimalField(label=_("New target"), max_digits=14, decimal_places=2)
    due_on = forms.DateField(
        label=_("New target date"), widget=forms.DateInput(attrs={"type": "date"})
    )
