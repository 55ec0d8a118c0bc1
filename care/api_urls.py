from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("care/cases", api.CaseViewSet, basename="care-case")
router.register("care/follow-ups", api.FollowUpViewSet, basename="care-follow-up")

urlpatterns = router.urls
