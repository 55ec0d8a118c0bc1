from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", views.FlashSaleCreateView.as_view(), name="campaign-create"),
    path("campaigns/<int:pk>/", views.CampaignLiveView.as_view(), name="campaign-live"),
    *[
        path(
            f"campaigns/<int:pk>/{action}/",
            views.CampaignActionView.as_view(),
            {"action": action},
            name=f"campaign-{action}",
        )
        for action in ("publish", "cancel")
    ],
]
