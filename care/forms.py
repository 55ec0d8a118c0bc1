from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CaseKind, FollowUpChannel, FollowUpTrigger, Priority, Resolution


class CaseCreateForm(forms.Form):
    member = forms.IntegerField(label=_("Member id"), min_value=1, max_value=2**62)
    order = forms.TypedChoiceField(label=_("Order"), required=False, coerce=int, empty_value=None)
    community = forms.TypedChoiceField(
        label=_("Group"), required=False, coerce=int, empty_value=None
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=CaseKind.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    subject = forms.CharField(label=_("Subject"), max_length=200)
    text = forms.CharField(
        label=_("What happened"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, orders=(), communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = [("", "—"), *orders]
        self.fields["community"].choices = [("", _("The order's group / none")), *communities]


class StepForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    resolution = forms.ChoiceField(
        label=_("Resolution"), required=False, choices=[("", "—"), *Resolution.choices]
    )
    reply = forms.CharField(
        label=_("Reply in the group (sent by the bot)"), required=False, max_length=2000
    )


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), max_length=2000)


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why reopen"), max_length=2000)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label=_("Assignee"), required=False, coerce=int, empty_value=None
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Unassigned")), *people]


class CareSettingsForm(forms.Form):
    first_response_minutes = forms.IntegerField(
        label=_("First response within (minutes)"), min_value=1, max_value=1440
    )
    service_start = forms.TimeField(
        label=_("Service hours start"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    service_end = forms.TimeField(
        label=_("Service hours end"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_(
            "The clock runs in these hours of the organization's time zone; the same "
            "start and end: around the clock."
        ),
    )
    complaint_keywords = forms.CharField(
        label=_("Complaint keywords"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Separated by commas. A message with one of them opens a complaint."),
    )


class GroupKeywordsForm(forms.Form):
    community = forms.TypedChoiceField(label=_("Group"), coerce=int)
    keywords = forms.CharField(
        label=_("The group's own keywords"),
        required=False,
        max_length=2000,
        help_text=_("Empty: no complaints are opened from keywords in this group."),
    )
    inherit = forms.BooleanField(label=_("Use the organization's keywords"), required=False)

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = list(communities)


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    trigger = forms.ChoiceField(label=_("When"), choices=FollowUpTrigger.choices)
    delay_hours = forms.IntegerField(
        label=_("Hours after"), min_value=0, max_value=24 * 90, initial=0
    )
    channel = forms.ChoiceField(label=_("How"), choices=FollowUpChannel.choices)
    message = forms.CharField(
        label=_("Message"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Placeholders: {name} (the member), {order} (order id), {items}."),
    )
    community = forms.TypedChoiceField(
        label=_("Only in group"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("All groups")), *communities]


class FinishForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    open_case = forms.BooleanField(label=_("Open a case for a problem"), required=False)
