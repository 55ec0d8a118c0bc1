"""Points where apps above members take part in a members change (see core.hooks)."""

from dataclasses import dataclass

from django.db.models import QuerySet

from core.hooks import Hook

# member_merged(org, from_member, to_member): the old member's rows owned by other apps
# (orders, …) move to the surviving member, in the merge's transaction.
member_merged = Hook("member_merged")


@dataclass(frozen=True)
class PrivacySection:
    """Rows another app keeps about a member, for the member's data export and erasure:
    `fields` are exported (None: every concrete field but the organization), `text_fields` may
    quote the member's names and are scrubbed on erasure."""

    key: str
    queryset: QuerySet
    fields: list | None = None
    text_fields: tuple = ()


# privacy_sections(org, member) -> [PrivacySection, …]: what apps above members keep about
# one member (orders, care cases, …).
privacy_sections = Hook("privacy_sections")

# tier_stats() -> {name: aggregate expression on Member}: the numbers other apps own that VIP
# tier conditions read (campaigns: paid_orders, spend), annotated in the nightly evaluation.
tier_stats = Hook("tier_stats")

# points_redeemed(org, actor, member, item): a member exchanged points for `item`, in the
# redemption's transaction (campaigns: the coupon the catalogue item issues). A receiver that
# raises (e.g. the coupon ran out) undoes the redemption.
points_redeemed = Hook("points_redeemed")

# wake_up_offers(org, memberships, now) -> {membership id: offer context}: what the wake-up
# offers each dormant member (campaigns: a coupon issued now, named with its value and
# expiry), in the reminders' transaction. The offer context is for the composer.
wake_up_offers = Hook("wake_up_offers")
