"""FilterSets of the members API (`?q=小王&tag=VIP&status=warned`).

Every filter narrows a queryset that `tenancy.api_base.TenantViewSet` has already scoped to the
request's organization and the viewset has cut down to what the actor may see; ids of another
organization (or of a group the actor does not see) simply match nothing. Filters that look at
memberships (`community`, `status`) only look at the memberships the actor may see, so a filter
never reveals that a member is in a group the actor is not assigned to.

No `?ordering=`: lists use cursor pagination on the primary key (newest first), which needs one
fixed, unique ordering to stay stable under inserts. That is also why `?newcomers=1` lists the
newest memberships first by id rather than by `joined_at` (for rows created by the event stream
the two orders agree, except for late-arriving events).
"""

from django.db.models import Q
from django.utils import timezone
from django_filters import rest_framework as filters

from communities.filters import json_string_variants
from communities.selectors import visible_communities
from integrations.platforms import Platform
from tenancy.permissions import can

from .models import (
    Block,
    ImportJob,
    Member,
    MemberIdentity,
    Membership,
    MembershipStatus,
    Warning,
)
from .selectors import visible_memberships

MAX_ID = 2**63 - 1  # BigAutoField
NEWCOMER_STATUSES = [MembershipStatus.JOINED, MembershipStatus.ONBOARDING]


def IdFilter(**kwargs):  # noqa: N802 -- reads like the filter classes it stands beside
    """An object id: a whole number in the primary key's range (no 500 on `?community=1e99`)."""
    return filters.NumberFilter(decimal_places=0, min_value=1, max_value=MAX_ID, **kwargs)


def _json_list_contains(field: str, value: str) -> Q:
    """`value` is one element of the JSON list in `field` (portable: PostgreSQL and SQLite)."""
    match = Q()
    for variant in json_string_variants(value):
        match |= Q(**{f"{field}__icontains": variant})
    return match


def only_visible(queryset, actor, community_path: str):
    """Rows whose group (reached through `community_path`) the actor may see. Org-wide viewers
    see every row: no join, no subquery."""
    if can(actor, "member.view"):
        return queryset

    return queryset.filter(**{f"{community_path}__in": visible_communities(actor)})


class MemberFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="filter_q",
        max_length=100,
        help_text="Part of the name, the name card or a platform user id.",
    )
    tag = filters.CharFilter(method="filter_tag", max_length=30, help_text="One whole tag.")
    tier = IdFilter(field_name="tier_id", help_text="VIP tier id.")
    community = IdFilter(
        method="filter_community", help_text="Group id: members with a membership there."
    )
    status = filters.ChoiceFilter(
        choices=MembershipStatus.choices,
        method="filter_status",
        help_text="Members with a membership in this status in any group the key sees.",
    )
    blocked = filters.BooleanFilter(
        method="filter_blocked", help_text="1: on the block list; 0: not on it."
    )
    platform = filters.ChoiceFilter(
        choices=Platform.choices,
        method="filter_identity",
        help_text="Members with an identity on this platform (with `external_user_id`: that one).",
    )
    external_user_id = filters.CharFilter(
        max_length=128,
        method="filter_identity",
        help_text="The member's id on a platform, exactly: the member a bot knows by it.",
    )

    class Meta:
        model = Member
        fields = [
            "q",
            "tag",
            "tier",
            "community",
            "status",
            "blocked",
            "platform",
            "external_user_id",
        ]

    def _memberships(self):
        return visible_memberships(self.request.auth)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        identities = MemberIdentity.objects.for_org(self.request.auth.organization).filter(
            external_user_id__icontains=value
        )
        return queryset.filter(
            Q(display_name__icontains=value)
            | Q(name_card__icontains=value)
            | Q(pk__in=identities.values("member_id"))
        )

    def filter_tag(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(_json_list_contains("tags", value)) if value else queryset

    def filter_community(self, queryset, name, value):
        ids = self._memberships().filter(community_id=int(value)).values("member_id")
        return queryset.filter(pk__in=ids)

    def filter_status(self, queryset, name, value):
        return queryset.filter(pk__in=self._memberships().filter(status=value).values("member_id"))

    def filter_identity(self, queryset, name, value):
        return queryset  # both parameters at once in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        exact = {
            key: data[param]
            for param, key in (("platform", "platform"), ("external_user_id", "external_user_id"))
            if data.get(param)
        }
        if exact:
            identities = MemberIdentity.objects.for_org(self.request.auth.organization).filter(
                **exact
            )
            queryset = queryset.filter(pk__in=identities.values("member_id"))
        return queryset

    def filter_blocked(self, queryset, name, value):
        blocked = Block.objects.for_org(self.request.auth.organization).filter(lifted_at=None)
        condition = Q(pk__in=blocked.values("member_id"))
        return queryset.filter(condition if value else ~condition)


class IdentityFilter(filters.FilterSet):
    """`?platform=wechat&external_user_id=wxid_abc` finds one person as a bot knows them."""

    platform = filters.ChoiceFilter(choices=Platform.choices)
    external_user_id = filters.CharFilter(max_length=128)
    member = IdFilter(field_name="member_id")

    class Meta:
        model = MemberIdentity
        fields = ["platform", "external_user_id", "member"]


class MembershipFilter(filters.FilterSet):
    community = IdFilter(field_name="community_id")
    member = IdFilter(field_name="member_id")
    status = filters.ChoiceFilter(choices=MembershipStatus.choices)
    flag = filters.CharFilter(
        method="filter_flag", max_length=60, help_text="e.g. blocked, below_tier."
    )
    newcomers = filters.BooleanFilter(
        method="filter_newcomers",
        help_text="1: memberships still joining or onboarding (newest first by id).",
    )

    class Meta:
        model = Membership
        fields = ["community", "member", "status", "flag", "newcomers"]

    def filter_flag(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(_json_list_contains("flags", value)) if value else queryset

    def filter_newcomers(self, queryset, name, value):
        condition = Q(status__in=NEWCOMER_STATUSES)
        return queryset.filter(condition if value else ~condition)


class WarningFilter(filters.FilterSet):
    membership = IdFilter(field_name="membership_id")
    active = filters.BooleanFilter(
        method="filter_active", help_text="1: neither revoked nor expired; 0: revoked or expired."
    )

    class Meta:
        model = Warning
        fields = ["membership", "active"]

    def filter_active(self, queryset, name, value):
        condition = Q(revoked_at=None, expires_at__gt=timezone.now())
        return queryset.filter(condition if value else ~condition)


class BlockFilter(filters.FilterSet):
    """Active blocks unless `?include_lifted=1`."""

    member = IdFilter(field_name="member_id")
    include_lifted = filters.BooleanFilter(method="filter_include_lifted")

    class Meta:
        model = Block
        fields = ["member", "include_lifted"]

    def filter_include_lifted(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which also handles the parameter's absence

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_lifted"):
            queryset = queryset.filter(lifted_at=None)
        return queryset


class ImportJobFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ImportJob.Status.choices)

    class Meta:
        model = ImportJob
        fields = ["status"]
