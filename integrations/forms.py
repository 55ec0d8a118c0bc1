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


class MessageTemplateForm(forms.Form):
    """The wording of one message; its variables are checked by the service (one place)."""

    text = forms.CharField(
        label=_("Wording"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        strip=True,
    )
