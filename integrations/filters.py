import django_filters as filters

from .models import Action, ActionKind, ActionStatus, DeliveryStatus, WebhookDelivery


class ActionFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ActionKind.choices)
    status = filters.ChoiceFilter(choices=ActionStatus.choices)
    community = filters.NumberFilter(field_name="community_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = Action
        fields = ["kind", "status", "community"]


class DeliveryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    endpoint = filters.NumberFilter(field_name="endpoint_id", min_value=1, max_value=2**63 - 1)
    action = filters.NumberFilter(field_name="action_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = WebhookDelivery
        fields = ["status", "endpoint", "action"]
