"""The coupon pages' forms. They read and shape the input; the rules (ranges, dates, scope)
are the services' (campaigns/coupons.py), whose errors land on these forms' fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Community

from .models import Campaign, CouponKind, CouponScope, CouponStatus, CouponTemplate

MONEY = {"min_value": 0, "max_digits": 10, "decimal_places": 2}


def _show_for(field, controlling: str, values: str, current: str) -> None:
    field.show_when = {"field": controlling, "values": values}
    field.hidden_now = current not in values.split()


class CouponTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. 新人专享 10 元券"))
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=CouponKind.choices,
        initial=CouponKind.AMOUNT,
        widget=forms.Select(attrs={"data-show-for": "kind"}),
    )
    value = forms.DecimalField(
        label=_("Value"),
        help_text=_("Yuan off for an amount; 1 to 100 for a percentage off (10 means 9折)."),
        **MONEY,
    )
    max_off = forms.DecimalField(label=_("At most (yuan)"), required=False, **MONEY)
    min_spend = forms.DecimalField(
        label=_("Minimum spend (yuan)"), required=False, initial=0, **MONEY
    )
    free_shipping = forms.BooleanField(label=_("Free shipping"), required=False)
    valid_days = forms.IntegerField(
        label=_("Valid for (days after issue)"),
        required=False,
        min_value=1,
        max_value=732,
        initial=30,
    )
    valid_from = forms.DateTimeField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("With days as well, a coupon expires at whichever comes first."),
    )
    scope = forms.ChoiceField(
        label=_("Where it applies"),
        choices=CouponScope.choices,
        initial=CouponScope.ALL,
        widget=forms.Select(attrs={"data-show-for": "scope"}),
    )
    campaigns = forms.ModelMultipleChoiceField(
        label=_("Campaigns"),
        queryset=Campaign.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    communities = forms.ModelMultipleChoiceField(
        label=_("Groups"),
        queryset=Community.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    quantity_limit = forms.IntegerField(
        label=_("Issue at most"),
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text=_("Empty: no limit."),
    )
    points_cost = forms.IntegerField(
        label=_("Points price"),
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text=_(
            "Members may redeem this many points for it (e.g. 100 积分换 5 元券). Empty: not in the points catalogue."
        ),
    )

    def __init__(self, *args, campaigns, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaigns"].queryset = campaigns
        self.fields["communities"].queryset = communities
        _show_for(self.fields["max_off"], "kind", CouponKind.PERCENT, self["kind"].value() or "")
        scope = self["scope"].value() or CouponScope.ALL
        _show_for(self.fields["campaigns"], "scope", CouponScope.CAMPAIGNS, scope)
        _show_for(self.fields["communities"], "scope", CouponScope.GROUPS, scope)

    @staticmethod
    def initial_from(template) -> dict:
        """The form filled with a template's terms (to save a changed copy)."""
        targets = list(template.targets.all())
        item = template.redemption_item
        return {
            "name": template.name,
            "kind": template.kind,
            "value": template.value,
            "max_off": template.max_off,
            "min_spend": template.min_spend,
            "free_shipping": template.free_shipping,
            "valid_days": template.valid_days,
            "valid_from": template.valid_from,
            "valid_until": template.valid_until,
            "scope": template.scope,
            "campaigns": [t.campaign_id for t in targets if t.campaign_id],
            "communities": [t.community_id for t in targets if t.community_id],
            "quantity_limit": template.quantity_limit,
            "points_cost": item.points_cost if item else None,
        }

    def terms(self) -> dict:
        data = dict(self.cleaned_data)
        data["campaigns"] = list(data["campaigns"])
        data["communities"] = list(data["communities"])
        return data


class IssueForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Coupon"), queryset=CouponTemplate.objects.none())
    reason = forms.CharField(
        label=_("Why"),
        max_length=200,
        help_text=_("Kept in the coupon's history and the audit log, e.g. 补偿：发货延迟."),
    )
    # the number of members the person saw before issuing to a list (a changed list is refused)
    expected = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class CouponSettingsForm(forms.Form):
    newcomer_template = forms.ModelChoiceField(
        label=_("Newcomer coupon"),
        queryset=CouponTemplate.objects.none(),
        required=False,
        empty_label=_("Off"),
        help_text=_("Given once to each member who joins their first group of the organization."),
    )
    wake_up_template = forms.ModelChoiceField(
        label=_("Wake-up coupon"),
        queryset=CouponTemplate.objects.none(),
        required=False,
        empty_label=_("Off"),
        help_text=_("Given with the dormant reminder; the message names it, its value and expiry."),
    )
    showcase_template = forms.ModelChoiceField(
        label=_("Photo reward coupon (晒单有奖)"),
        queryset=CouponTemplate.objects.none(),
        required=False,
        empty_label=_("Off"),
        help_text=_("Given to a buyer who posts a photo on enough days in a row after an order."),
    )
    showcase_days = forms.IntegerField(
        label=_("Days in a row of photos"), min_value=2, max_value=30, initial=7
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("newcomer_template", "wake_up_template", "showcase_template"):
            self.fields[name].queryset = templates


class PerkForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. 活跃用户立减"))
    active_within_days = forms.IntegerField(
        label=_("For members active within the last (days)"),
        min_value=1,
        max_value=365,
        initial=7,
    )
    percent_off = forms.IntegerField(
        label=_("Percent off"), min_value=0, max_value=90, initial=0, required=False
    )
    amount_off = forms.DecimalField(label=_("Yuan off"), required=False, **MONEY)
    min_spend = forms.DecimalField(label=_("Minimum spend (yuan)"), required=False, **MONEY)

    def clean_percent_off(self):
        return self.cleaned_data.get("percent_off") or 0


class IssuedFilterForm(forms.Form):
    """The issued coupons' filters (bad values are ignored, never a 500)."""

    template = forms.ModelChoiceField(
        label=_("Coupon"), queryset=CouponTemplate.objects.none(), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *CouponStatus.choices], required=False
    )
    member = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    q = forms.CharField(label=_("Member"), required=False, max_length=100)

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
