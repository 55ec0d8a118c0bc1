from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ConnectionMode, WeComMode


class TelegramModeForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("How Telegram reaches Qunyun"),
        choices=ConnectionMode.choices,
        widget=forms.RadioSelect,
    )


class WeComForm(forms.Form):
    """The WeCom app's details; the secrets are write-only (left empty: the stored ones)."""

    mode = forms.ChoiceField(
        label=_("Connection"), choices=WeComMode.choices, widget=forms.RadioSelect
    )
    corp_id = forms.CharField(label=_("Corp id (企业ID)"), max_length=64, required=False)
    agent_id = forms.CharField(
        label=_("AgentId of the app (optional)"), max_length=20, required=False
    )
    secret = forms.CharField(
        label=_("Secret (客户联系 or the app's)"),
        max_length=128,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    token = forms.CharField(
        label=_("Callback Token"),
        max_length=32,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    aes_key = forms.CharField(
        label=_("Callback EncodingAESKey"),
        max_length=43,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
