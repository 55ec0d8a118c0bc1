from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("audit-log", api.AuditLogViewSet, basename="audit-log")

urlpatterns = [path("me/", api.MeView.as_view(), name="me"), *router.urls]
