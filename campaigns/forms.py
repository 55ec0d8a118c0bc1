from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Community, VipTier


class FlashSaleForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("flash_sale", _("Flash sale")),
            ("group_buy", _("Group buy")),
            ("lottery", _("Lottery")),
        ],
        initial="flash_sale",
        widget=forms.Select(attrs={"data-show-for": "kind"}),
    )
    name = forms.CharField(label=_("Campaign name"), max_length=120)
    product_name = forms.CharField(label=_("Product"), max_length=120)
    # a lottery has neither price nor units (its prizes are the stock); the services check the
    # sales' values
    price = forms.DecimalField(
        label=_("Price (yuan)"), min_value=0, max_digits=12, decimal_places=2, required=False
    )
    original_price = forms.DecimalField(
        label=_("Original price (yuan)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
    )
    stock = forms.IntegerField(label=_("Units"), min_value=1, max_value=1_000_000, required=False)
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    communities = forms.ModelMultipleChoiceField(
        label=_("Groups"), queryset=Community.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    per_member_cap = forms.IntegerField(
        label=_("Per member at most"), min_value=1, max_value=1000, initial=1
    )
    min_tier = forms.ModelChoiceField(
        label=_("Minimum tier"), queryset=VipTier.objects.none(), required=False
    )
    payment_minutes = forms.IntegerField(
        label=_("Minutes to pay"), min_value=1, max_value=1440, initial=15
    )
    cost = forms.DecimalField(
        label=_("Cost (discounts, prizes)"), min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    team_size = forms.TypedChoiceField(
        label=_("Team size"),
        choices=[(2, "2"), (3, "3")],
        coerce=int,
        initial=2,
        required=False,
    )
    team_hours = forms.IntegerField(
        label=_("Hours to fill a team"),
        min_value=1,
        max_value=168,
        initial=24,
        required=False,
    )
    prizes = forms.CharField(
        label=_("Prizes, top prize first"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: name : quantity, e.g. 鱼油一瓶 : 1, then consolation prizes so most entrants win."
        ),
    )
    public_source = forms.CharField(
        label=_("Public value that will decide the draw"),
        max_length=200,
        required=False,
        help_text=_(
            "Name a value published after entries close that nobody knows before, e.g. "
            "体彩大乐透 第 26140 期 开奖号码. It is shown to members from the start and the draw "
            "needs it: that is what stops anyone, you included, from steering the result."
        ),
    )
    public_value_at = forms.DateTimeField(
        label=_("It is published at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("After entries close; the draw comes at or after this time."),
    )
    draw_at = forms.DateTimeField(
        label=_("Draw at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    require_checkin = forms.BooleanField(
        label=_("Entrants must check in during the window"), required=False
    )
    publish = forms.BooleanField(
        label=_("Publish now (announcements go on the calendar)"), required=False, initial=True
    )

    # The fields each kind of campaign has; the others are hidden (and ignored) for it.
    SALE = ("flash_sale", "group_buy")
    KIND_FIELDS = {
        "price": SALE,
        "original_price": SALE,
        "stock": SALE,
        "per_member_cap": SALE,
        "payment_minutes": SALE,
        "team_size": ("group_buy",),
        "team_hours": ("group_buy",),
        "prizes": ("lottery",),
        "public_source": ("lottery",),
        "public_value_at": ("lottery",),
        "draw_at": ("lottery",),
        "require_checkin": ("lottery",),
    }

    def __init__(self, *args, communities, tiers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communities"].queryset = communities
        self.fields["min_tier"].queryset = tiers
        kind = self["kind"].value() or "flash_sale"
        for name, kinds in self.KIND_FIELDS.items():
            field = self.fields[name]
            field.show_when = {"field": "kind", "values": " ".join(kinds)}
            field.hidden_now = kind not in kinds


def parse_prizes(text: str) -> list[tuple[str, int]]:
    prizes = []
    for line in (text or "").splitlines():
        name, sep, quantity = line.replace("：", ":").rpartition(":")
        if sep and name.strip():
            try:
                prizes.append((name.strip(), int(quantity.strip())))
            except ValueError:
                prizes.append((name.strip(), 0))  # refused by the service with a message
    return prizes
