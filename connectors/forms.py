from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ConnectionMode


class TelegramModeForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("How Telegram reaches Qunyun"),
        choices=ConnectionMode.choices,
        widget=forms.RadioSelect,
    )
