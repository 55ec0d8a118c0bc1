from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api
from .api import imports as api_imports

router = SimpleRouter()
router.register("members", api.MemberViewSet, basename="member")
router.register("identities", api.IdentityViewSet, basename="identity")
router.register("memberships", api.MembershipViewSet, basename="membership")
router.register("warnings", api.WarningViewSet, basename="warning")
router.register("blocks", api.BlockViewSet, basename="block")
router.register("member-imports", api_imports.ImportJobViewSet, basename="member-import")

urlpatterns = [
    # Before the router: `members/import/` is not a member id.
    path("members/export.csv", api_imports.MemberExportView.as_view(), name="members-export"),
    path("members/import/", api_imports.MemberImportView.as_view(), name="members-import"),
    *router.urls,
]
