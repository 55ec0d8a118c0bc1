"""FilterSets of the communities API (`?kind=vip&tag=养生&q=西安`).

No `?ordering=`: the API lists with cursor pagination, which needs one fixed, unique ordering
(newest first, by id) to stay stable under inserts; sort on the client, or narrow with filters.
"""

import json

from django.db.models import Q
from django_filters import rest_framework as filters

from tenancy.roles import CommunityRole

from .models import (
    Community,
    CommunityKind,
    CommunityStatus,
    Platform,
    RedemptionItem,
    StaffAssignment,
    VipTier,
)


def json_string_variants(value: str) -> set[str]:
    """`value` as it appears inside a stored JSON list: PostgreSQL's jsonb text keeps non-ASCII
    characters, while SQLite stores what json.dumps wrote (\\u escapes). Both forms are quoted, so
    `"养生"` matches the tag 养生 and not 养生馆."""
    return {json.dumps(value, ensure_ascii=False), json.dumps(value)}


class CommunityFilter(filters.FilterSet):
    """`?platform=wechat&external_id=wx-group-001` finds one group as a bot knows it."""

    kind = filters.ChoiceFilter(choices=CommunityKind.choices)
    platform = filters.ChoiceFilter(choices=Platform.choices)
    external_id = filters.CharFilter(
        max_length=128, help_text="The group's id on its platform, exactly (with `platform`)."
    )
    status = filters.ChoiceFilter(choices=CommunityStatus.choices)
    tag = filters.CharFilter(method="filter_tag", max_length=30)
    q = filters.CharFilter(method="filter_q", max_length=100)

    class Meta:
        model = Community
        fields = ["kind", "platform", "external_id", "status", "tag", "q"]

    def filter_tag(self, queryset, name, value):
        """Groups whose tags contain `value` (case-insensitive); portable across databases."""
        value = value.strip()
        if not value:
            return queryset
        match = Q()
        for variant in json_string_variants(value):
            match |= Q(tags__icontains=variant)
        return queryset.filter(match)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(region__icontains=value)
            | Q(category__icontains=value)
            | Q(external_id__icontains=value)
        )


class StaffAssignmentFilter(filters.FilterSet):
    """Active assignments unless `?include_ended=1`. Ids of another organization match nothing:
    the queryset is already the request's organization."""

    community = filters.NumberFilter(field_name="community_id")
    user = filters.NumberFilter(field_name="user_id")
    role = filters.ChoiceFilter(choices=CommunityRole.choices)
    include_ended = filters.BooleanFilter(method="filter_include_ended")

    class Meta:
        model = StaffAssignment
        fields = ["community", "user", "role", "include_ended"]

    def filter_include_ended(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which also handles the parameter's absence

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_ended"):
            queryset = queryset.filter(ended_at=None)
        return queryset


class VipTierFilter(filters.FilterSet):
    is_active = filters.BooleanFilter()

    class Meta:
        model = VipTier
        fields = ["is_active"]


class RedemptionItemFilter(filters.FilterSet):
    is_active = filters.BooleanFilter()

    class Meta:
        model = RedemptionItem
        fields = ["is_active"]
