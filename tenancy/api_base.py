"""The base every API view builds on: it resolves the organization from the key, scopes the
queryset, and checks the capability. Subclasses say *what* (model, capability), never *how*
tenant data is scoped."""

from django.utils import translation
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from .scope import reset_current_org, set_current_org


class OrgScopedMixin:
    def dispatch(self, request, *args, **kwargs):
        token = set_current_org(None)
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            reset_current_org(token)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticates, checks permissions, throttles
        set_current_org(self.actor.organization)
        if "HTTP_ACCEPT_LANGUAGE" not in request.META:  # bots that say nothing get the org's
            translation.activate(self.actor.organization.default_language)

    @property
    def actor(self):
        return self.request.auth

    @property
    def organization(self):
        return self.request.auth.organization


class TenantAPIView(OrgScopedMixin, APIView):
    pass


class TenantViewSet(OrgScopedMixin, viewsets.GenericViewSet):
    """`model` + `capabilities`; optional `refine_queryset(qs)` for joins and ordering."""

    model = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; use refine_queryset so scoping stays here"
            )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no org
            return self.model.objects.unscoped().none()
        return self.refine_queryset(self.model.objects.for_org(self.organization))

    def refine_queryset(self, queryset):
        return queryset


class TenantReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    pass


class ServiceSaveMixin:
    """`create` and `partial_update` through one service function:
    `save_service(actor=..., **validated)` creates, `save_service(actor=..., <instance_kwarg>=obj,
    **validated)` updates. Set `save_service = staticmethod(services.thing_save)`."""

    save_service = None
    instance_kwarg = ""

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.save_service(actor=self.actor, **serializer.validated_data)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        obj = self.get_object()
        serializer = self.get_serializer(obj, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        obj = self.save_service(
            actor=self.actor, **{self.instance_kwarg: obj}, **serializer.validated_data
        )
        return Response(self.get_serializer(obj).data)
