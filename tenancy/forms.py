import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from .models import RAW_EVENT_RETENTION_CHOICES
from .roles import API_KEY_ROLES, OrgRole


def time_zone_label(name: str) -> str:
    """ "America/Argentina/Buenos_Aires" as people write it: "America/Argentina/Buenos Aires"."""
    return str(name or "").replace("_", " ")


TIME_ZONE_CHOICES = [(tz, time_zone_label(tz)) for tz in sorted(zoneinfo.available_timezones())]


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=OrgRole.choices, initial=OrgRole.STAFF)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=OrgRole.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(r.value, r.label) for r in API_KEY_ROLES],
        initial=OrgRole.MANAGER,
    )


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES)
    default_language = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    sub_owner_community_limit = forms.IntegerField(
        label=_("Groups per sub-owner (warn above)"), min_value=1, max_value=100, initial=4
    )
    general_group_limit = forms.IntegerField(
        label=_("General groups one member may join"), min_value=1, max_value=100, initial=1
    )
    category_group_limit = forms.IntegerField(
        label=_("Category groups one member may join"), min_value=1, max_value=100, initial=1
    )
    remove_blocked_on_join = forms.BooleanField(
        label=_("Remove blocked members at once when they join another group"), required=False
    )
    abuse_words = forms.CharField(
        label=_("Words that count as personal attacks (one per line)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    store_message_text = forms.BooleanField(
        label=_("Keep message text (otherwise it is only used for rule checks)"), required=False
    )
    raw_event_retention_months = forms.TypedChoiceField(
        label=_("Keep raw events for"),
        choices=RAW_EVENT_RETENTION_CHOICES,
        coerce=int,
        initial=13,
        help_text=_(
            "Raw events are every message and action your bots sent, as they came. They are "
            "kept at least this long, then removed a whole calendar month at a time (a month "
            "may stay longer while another organization keeps it). The daily figures of the "
            "metrics pages are kept; only the raw events go."
        ),
    )
    monthly_campaign_budget = forms.DecimalField(
        label=_("Monthly campaign budget (yuan)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
    )
    require_post_approval = forms.BooleanField(
        label=_("Posts drafted by content officers need a sub-owner's or manager's approval"),
        required=False,
    )
    payment_instructions = forms.CharField(
        label=_("How members pay for orders placed on their pages"),
        help_text=_("Shown with the amount after a member orders, e.g. who to transfer to."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
    )

    wake_up_holdout_percent = forms.IntegerField(
        label=_("Wake-up holdout (%)"),
        help_text=_(
            "This share of dormant members is not reminded, chosen at random at each scan, so "
            "the metrics can compare them with the reminded ones. 0 turns it off; at most 50."
        ),
        min_value=0,
        max_value=50,
        initial=10,
    )

    @staticmethod
    def initial_from(org) -> dict:
        limits = org.group_limits or {}
        return {
            "name": org.name,
            "time_zone": org.time_zone,
            "default_language": org.default_language,
            "sub_owner_community_limit": org.sub_owner_community_limit,
            "general_group_limit": limits.get("general", 1),
            "category_group_limit": limits.get("category", 1),
            "remove_blocked_on_join": org.remove_blocked_on_join,
            "abuse_words": "\n".join(org.abuse_words or []),
            "store_message_text": org.store_message_text,
            "raw_event_retention_months": org.raw_event_retention_months,
            "require_post_approval": org.require_post_approval,
            "monthly_campaign_budget": org.monthly_campaign_budget,
            "payment_instructions": org.payment_instructions,
            "wake_up_holdout_percent": org.wake_up_holdout_percent,
        }

    def to_service_values(self) -> dict:
        data = dict(self.cleaned_data)
        limits = {
            "general": data.pop("general_group_limit"),
            "category": data.pop("category_group_limit"),
        }
        words = [w.strip() for w in data.pop("abuse_words", "").splitlines() if w.strip()]
        return {**data, "group_limits": limits, "abuse_words": list(dict.fromkeys(words))}


class AcceptInvitationForm(SetPasswordForm):
    """New account from an invitation: a name and a password (entered twice)."""

    full_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    field_order = ["full_name", "new_password1", "new_password2"]


class SignupForm(forms.Form):
    """A new organization and its owner (tenancy/signup.py checks the rest: a free address,
    the password validators)."""

    full_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_(
            "We send a link to this address: the organization is created when you open it."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    organization_name = forms.CharField(
        label=_("Organization name"),
        max_length=120,
        help_text=_("Your brand, shop or team, as your members know it."),
    )
    slug = forms.CharField(
        label=_("Web address"),
        max_length=50,
        help_text=_(
            "Lowercase letters, digits and hyphens, e.g. my-shop: your pages will be at "
            "/o/my-shop/."
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_slug(self):
        return self.cleaned_data["slug"].strip().lower()

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") != data.get("password1"):
            self.add_error("password2", _("The two passwords differ."))
        return data

    def to_service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "full_name": data["full_name"],
            "email": data["email"],
            "organization_name": data["organization_name"],
            "slug": data["slug"],
            "password": data["password1"],
        }
