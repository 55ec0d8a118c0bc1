from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from .models import Community, ContentType

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Plan name"), max_length=100)
    communities = forms.ModelMultipleChoiceField(
        label=_("Groups"), queryset=Community.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communities"].queryset = communities


class SlotForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Day"), choices=WEEKDAYS, coerce=int, required=False)
    local_time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    content_type = forms.ChoiceField(
        label=_("Content"), choices=ContentType.choices, required=False
    )
    template = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("{community} is replaced by the group's name, {date} by the day."),
    )

    def clean(self):
        data = super().clean()
        if (data.get("template") or "").strip() and (
            data.get("local_time") is None or data.get("weekday") is None
        ):
            raise forms.ValidationError(_("Give a day and a time for this slot."))
        return data


SlotFormSet = formset_factory(SlotForm, extra=0, min_num=1, max_num=21)


class PostForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Group"), queryset=Community.objects.none())
    scheduled_at = forms.DateTimeField(
        label=_("Time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    content_type = forms.ChoiceField(
        label=_("Content"), choices=ContentType.choices, initial=ContentType.CUSTOM
    )
    text = forms.CharField(
        label=_("Text"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


class PostEditForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        required=False,
    )
    text = forms.CharField(
        label=_("Text"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
