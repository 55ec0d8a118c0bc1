"""Serializer fields and viewset pieces shared by every app's API."""

from rest_framework import serializers


class OrgPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """The id of an object of the request's organization. The queryset is built per request by
    `scope(organization)` (default `model.objects.for_org(organization)`); any other id, another
    organization's included, is answered with DRF's "object does not exist"."""

    def __init__(self, *, model, scope=None, **kwargs):
        self.model = model
        self.scope = scope or (lambda organization: model.objects.for_org(organization))
        kwargs["queryset"] = model.objects.none()  # the schema reads the id's type from it
        super().__init__(**kwargs)

    def get_queryset(self):
        actor = getattr(self.context.get("request"), "auth", None)
        if actor is None:  # schema generation, or a serializer used without a request
            return self.model.objects.none()
        return self.scope(actor.organization)
