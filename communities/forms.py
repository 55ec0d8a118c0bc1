from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from tenancy.models import OrgMembership, User
from tenancy.roles import CommunityRole

from .models import Community, CommunityKind, EntryRuleAction, Platform, VipTier
from .rule_templates import TEMPLATES


class CommunityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=CommunityKind.choices)
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    external_id = forms.CharField(
        label=_("External id"),
        max_length=128,
        required=False,
        help_text=_("The group's id on the chat platform, as the bots know it."),
    )
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=100000, initial=500)
    region = forms.CharField(label=_("Region"), max_length=60, required=False)
    category = forms.CharField(label=_("Category"), max_length=60, required=False)
    parent = forms.ModelChoiceField(
        label=_("Parent group"), queryset=Community.objects.none(), required=False
    )
    required_tier = forms.ModelChoiceField(
        label=_("Required tier"), queryset=VipTier.objects.none(), required=False
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    join_url = forms.URLField(
        label=_("Join link"),
        max_length=500,
        required=False,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_(
            "The link that lets someone join the group (from the chat platform): the group's QR "
            "poster holds it."
        ),
    )

    def __init__(self, *args, organization, exclude_pk=None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Community.objects.for_org(organization).filter(status="active")
        if exclude_pk:
            parents = parents.exclude(pk=exclude_pk)
        self.fields["parent"].queryset = parents.order_by("name")
        self.fields["required_tier"].queryset = VipTier.objects.for_org(organization).filter(
            is_active=True
        )

    @staticmethod
    def initial_from(community: Community) -> dict:
        return {
            "name": community.name,
            "kind": community.kind,
            "platform": community.platform,
            "external_id": community.external_id,
            "capacity": community.capacity,
            "region": community.region,
            "category": community.category,
            "parent": community.parent_id,
            "required_tier": community.required_tier_id,
            "tags": ", ".join(community.tags),
            "join_url": community.join_url,
        }


class RulesForm(forms.Form):
    """The rule set as an operator edits it: one switch and its parameters per rule kind."""

    intro_who = forms.CharField(
        label=_("Who we are"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    intro_why = forms.CharField(
        label=_("Why join"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    intro_runs = forms.CharField(
        label=_("Who runs the group"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    welcome_message = forms.CharField(
        label=_("Welcome message"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    name_card_on = forms.BooleanField(label=_("Require a name-card format"), required=False)
    name_card_format = forms.CharField(
        label=_("Name-card format"),
        required=False,
        max_length=100,
        help_text=_("Fields in braces, e.g. {city}-{name}-{product}."),
    )
    no_flood_on = forms.BooleanField(label=_("No flooding"), required=False)
    no_flood_max = forms.IntegerField(
        label=_("Maximum messages in a row"), required=False, initial=5
    )
    no_flood_window = forms.IntegerField(label=_("Within (seconds)"), required=False, initial=60)
    no_ads_on = forms.BooleanField(label=_("No ads"), required=False)
    no_ads_domains = forms.CharField(
        label=_("Links allowed from (domains)"), required=False, max_length=2000
    )
    no_ads_keywords = forms.CharField(label=_("Ad keywords"), required=False, max_length=2000)
    no_ads_delete = forms.BooleanField(
        label=_("Delete the ad itself (where the platform supports it)"), required=False
    )
    no_attacks_on = forms.BooleanField(label=_("No personal attacks"), required=False)
    custom_rules = forms.CharField(
        label=_("Other rules"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
        help_text=_("One rule per line."),
    )
    warnings_before_removal = forms.IntegerField(
        label=_("Warnings before removal"), min_value=0, max_value=20, initial=1
    )
    warning_expiry_days = forms.IntegerField(
        label=_("Warnings expire after (days)"), min_value=1, max_value=3650, initial=30
    )
    announce_removal = forms.BooleanField(
        label=_("Announce removals in the group"), required=False, initial=True
    )
    mute_before_removal = forms.BooleanField(
        label=_("Mute for a day at the last warning (where the platform supports it)"),
        required=False,
    )
    ask_leavers_why = forms.BooleanField(
        label=_("Ask members who leave why (a private message with a one-tap survey)"),
        required=False,
        initial=True,
    )
    below_tier_action = forms.ChoiceField(
        label=_("When a member below the required tier joins"),
        choices=EntryRuleAction.choices,
        initial=EntryRuleAction.NOTIFY_AND_REVIEW,
        required=False,  # left out: the group keeps its choice
    )
    group_limit_action = forms.ChoiceField(
        label=_("When a member joins more groups of a kind than allowed"),
        choices=EntryRuleAction.choices,
        initial=EntryRuleAction.NOTIFY_AND_REVIEW,
        required=False,  # left out: the group keeps its choice
    )
    auto_replies = forms.CharField(
        label=_("Keyword auto-replies"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=20000,
        help_text=_("One per line: keyword = reply, e.g. 1 = 群规如下……"),
    )
    dormant_after_days = forms.IntegerField(
        label=_("Dormant after (days of silence)"),
        min_value=1,
        max_value=365,
        initial=14,
        required=False,
    )
    reminder_cooldown_days = forms.IntegerField(
        label=_("Days between reminders"), min_value=1, max_value=365, initial=7, required=False
    )
    max_reminders = forms.IntegerField(
        label=_("Reminders at most"), min_value=0, max_value=20, initial=3, required=False
    )
    reminder_template = forms.CharField(
        label=_("Reminder text"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
        help_text=_("{name} is the member's name, {offer} the personal offer."),
    )
    reminder_offer = forms.CharField(label=_("Personal offer"), required=False, max_length=200)
    posts_per_day_limit = forms.IntegerField(
        label=_("Scheduled posts per day at most"), min_value=1, max_value=50, required=False
    )

    SIMPLE_FIELDS = [
        "intro_who",
        "intro_why",
        "intro_runs",
        "welcome_message",
        "warnings_before_removal",
        "warning_expiry_days",
        "announce_removal",
        "ask_leavers_why",
        "mute_before_removal",
        "below_tier_action",
        "group_limit_action",
        "dormant_after_days",
        "reminder_cooldown_days",
        "max_reminders",
        "reminder_template",
        "reminder_offer",
        "posts_per_day_limit",
    ]

    KEPT_WHEN_EMPTY = {"below_tier_action", "group_limit_action"}

    @classmethod
    def initial_from(cls, rules_obj) -> dict:
        initial = {key: getattr(rules_obj, key) for key in cls.SIMPLE_FIELDS}
        custom = []
        for rule in rules_obj.rules:
            kind, params = rule["kind"], rule.get("params", {})
            if kind == "name_card":
                initial.update(name_card_on=True, name_card_format=params["format"])
            elif kind == "no_flood":
                initial.update(
                    no_flood_on=True,
                    no_flood_max=params["max_consecutive"],
                    no_flood_window=params["window_seconds"],
                )
            elif kind == "no_ads":
                initial.update(
                    no_ads_on=True,
                    no_ads_domains=", ".join(params.get("allowed_domains", [])),
                    no_ads_keywords=", ".join(params.get("keywords", [])),
                    no_ads_delete=bool(params.get("delete_messages")),
                )
            elif kind == "no_personal_attacks":
                initial["no_attacks_on"] = True
            elif kind == "custom":
                custom.append(params["text"])
        initial["custom_rules"] = "\n".join(custom)
        initial["auto_replies"] = "\n".join(
            f"{r['keyword']} = {r['reply']}" for r in rules_obj.auto_replies
        )
        return initial

    def to_service_values(self) -> dict:
        data = self.cleaned_data
        rules = []
        if data["name_card_on"]:
            rules.append({"kind": "name_card", "params": {"format": data["name_card_format"]}})
        if data["no_flood_on"]:
            rules.append(
                {
                    "kind": "no_flood",
                    "params": {
                        "max_consecutive": data["no_flood_max"],
                        "window_seconds": data["no_flood_window"],
                    },
                }
            )
        if data["no_ads_on"]:
            rules.append(
                {
                    "kind": "no_ads",
                    "params": {
                        "allowed_domains": data["no_ads_domains"],
                        "keywords": data["no_ads_keywords"],
                        "delete_messages": data.get("no_ads_delete", False),
                    },
                }
            )
        if data["no_attacks_on"]:
            rules.append({"kind": "no_personal_attacks", "params": {}})
        for line in data["custom_rules"].splitlines():
            if line.strip():
                rules.append({"kind": "custom", "params": {"text": line.strip()}})
        replies = []
        for line in data["auto_replies"].splitlines():
            keyword, sep, reply = line.replace("＝", "=").partition("=")
            if sep:
                replies.append({"keyword": keyword.strip(), "reply": reply.strip()})
            elif line.strip():
                replies.append({"keyword": line.strip(), "reply": ""})  # rejected with a message
        return {
            **{
                key: data[key]
                for key in self.SIMPLE_FIELDS
                if data[key] is not None and not (key in self.KEPT_WHEN_EMPTY and data[key] == "")
            },
            "rules": rules,
            "auto_replies": replies,
        }


class TemplateForm(forms.Form):
    template = forms.ChoiceField(
        label=_("Template"), choices=[(key, spec["label"]) for key, spec in TEMPLATES.items()]
    )


class RulesCopyForm(forms.Form):
    targets = forms.ModelMultipleChoiceField(
        label=_("Copy to"), queryset=Community.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].queryset = communities


class StaffAssignForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=None)
    role = forms.ChoiceField(label=_("Role"), choices=CommunityRole.choices)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)

        member_ids = (
            OrgMembership.objects.for_org(organization).filter(is_active=True).values("user_id")
        )
        self.fields["user"].queryset = User.objects.filter(pk__in=member_ids).order_by("email")
        self.fields["user"].label_from_instance = lambda u: f"{u.full_name or u.email} ({u.email})"


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("archive", _("Archive")),
        ("tag", _("Add tags")),
        ("untag", _("Remove tags")),
        ("assign", _("Assign staff")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = forms.ModelMultipleChoiceField(queryset=Community.objects.none())
    tags = forms.CharField(label=_("Tags"), required=False, max_length=500)
    user = forms.ModelChoiceField(label=_("Person"), queryset=None, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=CommunityRole.choices, required=False)

    def __init__(self, *args, communities, organization, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["ids"].queryset = communities
        member_ids = (
            OrgMembership.objects.for_org(organization).filter(is_active=True).values("user_id")
        )
        self.fields["user"].queryset = User.objects.filter(pk__in=member_ids)

    def clean(self):
        data = super().clean()
        if data.get("action") == "assign" and not (data.get("user") and data.get("role")):
            raise forms.ValidationError(_("Choose a person and a role to assign."))
        if data.get("action") in ("tag", "untag") and not (data.get("tags") or "").strip():
            raise forms.ValidationError(_("Enter the tags."))
        return data


class TierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    rank = forms.IntegerField(
        label=_("Rank"), min_value=1, max_value=100, help_text=_("1 is the lowest tier.")
    )
    manual_only = forms.BooleanField(label=_("Granted by hand only"), required=False)
    min_paid_orders = forms.IntegerField(label=_("Minimum paid orders"), min_value=0, initial=0)
    min_spend = forms.DecimalField(
        label=_("Minimum spend (yuan)"), min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    min_points = forms.IntegerField(label=_("Minimum points"), min_value=0, initial=0)
    min_active_days_30 = forms.IntegerField(
        label=_("Minimum active days in the last 30"), min_value=0, max_value=30, initial=0
    )
    benefits = forms.CharField(
        label=_("Benefits"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    discount_percent = forms.IntegerField(
        label=_("Discount (%)"), min_value=0, max_value=90, initial=0
    )
    points_multiplier = forms.DecimalField(
        label=_("Points multiplier"), min_value=0, max_value=10, decimal_places=2, initial=1
    )
    free_shipping = forms.BooleanField(label=_("Free shipping"), required=False)
    hold_days = forms.IntegerField(
        label=_("Keep the tier at least (days)"), min_value=0, max_value=365, initial=0
    )


class PointsRulesForm(forms.Form):
    checkin = forms.IntegerField(label=_("Points per check-in"), min_value=0, max_value=10000)
    share = forms.IntegerField(label=_("Points per share"), min_value=0, max_value=10000)
    invite = forms.IntegerField(label=_("Points per invite"), min_value=0, max_value=10000)
    per_yuan = forms.DecimalField(
        label=_("Points per yuan spent"), min_value=0, max_value=100, decimal_places=2
    )
    repurchase_multiplier = forms.DecimalField(
        label=_("Repurchase multiplier"), min_value=1, max_value=10, decimal_places=2
    )
    per_message = forms.IntegerField(label=_("Points per message"), min_value=0, max_value=1000)
    message_daily_cap = forms.IntegerField(
        label=_("Points from messages per day at most"), min_value=0, max_value=100000
    )
    streak_days = forms.IntegerField(
        label=_("Check-in streak length for a bonus"), min_value=2, max_value=365
    )
    streak_bonus = forms.IntegerField(label=_("Streak bonus points"), min_value=0, max_value=100000)
    share_daily_cap = forms.IntegerField(
        label=_("Rewarded shares per day"), min_value=0, max_value=100
    )
    invite_min_stay_days = forms.IntegerField(
        label=_("Invitee must stay (days) before the inviter is credited"),
        min_value=0,
        max_value=365,
    )
    invites_for_bonus = forms.IntegerField(
        label=_("Invites for a bonus"), min_value=1, max_value=1000
    )
    invite_bonus = forms.IntegerField(label=_("Invite bonus points"), min_value=0, max_value=100000)


class RedemptionItemForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    points_cost = forms.IntegerField(label=_("Points"), min_value=1, max_value=10_000_000)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    stock = forms.IntegerField(
        label=_("Stock"), min_value=0, required=False, help_text=_("Empty: unlimited.")
    )
