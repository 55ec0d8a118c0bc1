from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("communities", api.CommunityViewSet, basename="community")
router.register("staff-assignments", api.StaffAssignmentViewSet, basename="staff-assignment")
router.register("tiers", api.VipTierViewSet, basename="tier")
router.register("redemption-items", api.RedemptionItemViewSet, basename="redemption-item")

urlpatterns = [
    path("points-rules/", api.PointsRulesView.as_view(), name="points-rules"),
    *router.urls,
]
