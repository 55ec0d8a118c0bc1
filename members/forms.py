from django import forms
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
    block = forms.BooleanField(label=_("Also block in every group (ads)"), required=False)


class PointsAdjustForm(forms.Form):
    delta = forms.IntegerField(
        label=_("Points (+ or −)"), min_value=-1_000_000, max_value=1_000_000
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class MemberNotesForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    tags = forms.CharField(label=_("Tags"), required=False, max_length=700)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
