"""Shapes of the metrics API (output only, except the commission ladder)."""

from rest_framework import serializers

from campaigns.api import ReviewFiguresSerializer, ReviewRowSerializer


class ChangeSerializer(serializers.Serializer):
    previous = serializers.FloatField(allow_null=True)
    points = serializers.FloatField(allow_null=True, help_text="Percentage points.")
    direction = serializers.ChoiceField(choices=["up", "down", "flat", "none"])


class RatesSerializer(serializers.Serializer):
    members = serializers.IntegerField(help_text="Members at the end of the window.")
    members_change = serializers.IntegerField(help_text="Against the previous window's end.")
    speakers = serializers.IntegerField(help_text="Distinct members who posted.")
    buyers = serializers.IntegerField(help_text="Distinct members who bought.")
    repeat_buyers = serializers.IntegerField(help_text="Buyers with two or more orders.")
    activity_rate = serializers.FloatField(allow_null=True)
    conversion_rate = serializers.FloatField(allow_null=True)
    repurchase_rate = serializers.FloatField(allow_null=True)
    activity_change = ChangeSerializer()
    conversion_change = ChangeSerializer()
    repurchase_change = ChangeSerializer()


class WindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()


class DefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    definition = serializers.CharField()


class OverviewRowSerializer(RatesSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    activity_series = serializers.ListField(child=serializers.FloatField(allow_null=True))


class OverviewSerializer(serializers.Serializer):
    window = WindowSerializer()
    previous = WindowSerializer()
    definitions = DefinitionSerializer(many=True)
    total = RatesSerializer()
    rows = OverviewRowSerializer(many=True)


class SeriesPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    members = serializers.IntegerField()
    speakers = serializers.IntegerField()
    buyers = serializers.IntegerField()
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, help_text="Only with metrics.revenue."
    )
    activity_rate = serializers.FloatField(allow_null=True)
    conversion_rate = serializers.FloatField(allow_null=True)


class BusiestSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 is Monday.")
    hour = serializers.IntegerField()
    messages = serializers.IntegerField()


class HeatmapSerializer(serializers.Serializer):
    grid = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="7 rows (Monday first) of 24 hourly message counts, in the org's time zone.",
    )
    max = serializers.IntegerField()
    busiest = BusiestSerializer(allow_null=True)


class ChurnSerializer(serializers.Serializer):
    reason = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class CohortSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    size = serializers.IntegerField()
    retention = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text="Share of the cohort active in week 1, 2, ... after the join week.",
    )


class DormancySerializer(serializers.Serializer):
    dormant = serializers.IntegerField(help_text="Dormant now.")
    reactivated = serializers.IntegerField(help_text="Reactivated in the window.")
    reminded = serializers.IntegerField(help_text="Last reminded in the window.")


class ContributorSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    name = serializers.CharField()
    messages = serializers.IntegerField()
    checkins = serializers.IntegerField()
    shares = serializers.IntegerField()
    orders = serializers.IntegerField()
    days = serializers.IntegerField(help_text="Days with any activity.")
    spend = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, help_text="Only with metrics.revenue."
    )


class CommunityCampaignReviewSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField(source="campaign.pk")
    name = serializers.CharField(source="campaign.name")
    kind = serializers.CharField(source="campaign.kind")
    figures = ReviewFiguresSerializer()
    rows = ReviewRowSerializer(many=True)


class CommunityRollupReportSerializer(serializers.Serializer):
    """The rollup part of a group's report (metrics/report_cache.py caches it serialized)."""

    window = WindowSerializer()
    previous = WindowSerializer()
    definitions = DefinitionSerializer(many=True)
    rates = RatesSerializer()
    series = SeriesPointSerializer(many=True)
    heatmap = HeatmapSerializer()
    churn = ChurnSerializer(many=True)
    cohorts = CohortSerializer(many=True)
    top = ContributorSerializer(many=True)


class CommunityLiveReportSerializer(serializers.Serializer):
    """The part read from live records on every request."""

    dormancy = DormancySerializer()
    campaigns = CommunityCampaignReviewSerializer(many=True)


class CommunityReportSerializer(CommunityRollupReportSerializer, CommunityLiveReportSerializer):
    """The whole report (the API's documented shape)."""

    community_id = serializers.IntegerField(source="community.pk")
    community = serializers.CharField(source="community.name")


class LadderStepSerializer(serializers.Serializer):
    min_orders = serializers.IntegerField(min_value=1, max_value=1_000_000)
    rate_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100
    )


class LadderSerializer(serializers.Serializer):
    steps = LadderStepSerializer(many=True, max_length=20)


class StaffRowSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    groups = serializers.ListField(child=serializers.CharField())
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    commission_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    commission = serializers.DecimalField(max_digits=16, decimal_places=2)
    activity_rate = serializers.FloatField(allow_null=True)
    reactivated = serializers.IntegerField()
    median_first_response_seconds = serializers.FloatField(allow_null=True)
    median_resolution_seconds = serializers.FloatField(allow_null=True)
    cases = serializers.IntegerField()


class AwardSerializer(serializers.Serializer):
    award = serializers.ChoiceField(
        choices=["most_active_group", "best_reactivation", "best_service"]
    )
    title = serializers.CharField()
    group = serializers.CharField(allow_blank=True)
    staff = serializers.ListField(child=serializers.CharField())
    figure = serializers.FloatField()
    figure_kind = serializers.ChoiceField(choices=["rate", "count", "seconds"])


class StaffPerformanceSerializer(serializers.Serializer):
    month = serializers.DateField()
    ladder = LadderStepSerializer(many=True)
    rows = StaffRowSerializer(many=True)
    awards = AwardSerializer(many=True)
