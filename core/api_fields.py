"""Serializer fields and viewset pieces shared by every app's API (no tenancy in them)."""

from rest_framework import serializers


def _flat_messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flat_messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _flat_messages(value)]
    return [str(detail)]


class FlatListField(serializers.ListField):
    """A list whose item errors come back as one flat list of messages: the API's error format
    has a list of messages per field, not one per list index."""

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(
                list(dict.fromkeys(_flat_messages(exc.detail)))
            ) from None


def object_for_bodiless_action(view):
    """The object of an action that takes no input (archive, end, deactivate): 404 first, then a
    body that is not valid JSON is still refused (400 parse_error) rather than acted upon."""
    obj = view.get_object()
    view.request.data  # noqa: B018 -- parsing is the check
    return obj


class ListFiltersOnly:
    """Query-string filters narrow lists only: `GET …/<id>/` and the actions on one object find
    it whatever the query string says (an ended assignment is still `…/<id>/`)."""

    def filter_queryset(self, queryset):
        if getattr(self, "action", None) != "list":
            return queryset
        return super().filter_queryset(queryset)
