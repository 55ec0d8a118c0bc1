from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ActionKind


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    kinds = forms.MultipleChoiceField(
        label=_("Action kinds (none: all)"),
        choices=ActionKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class TelegramTokenForm(forms.Form):
    token = forms.CharField(
        label=_("Bot token from BotFather"),
        max_length=100,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
