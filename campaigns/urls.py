from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", views.FlashSaleCreateView.as_view(), name="campaign-create"),
    path("orders/export.csv", views.OrdersExportView.as_view(), name="orders-export"),
    path("campaigns/<int:pk>/", views.CampaignLiveView.as_view(), name="campaign-live"),
    path(
        "campaigns/<int:pk>/poster.png", views.CampaignPosterView.as_view(), name="campaign-poster"
    ),
    *[
        path(
            f"campaigns/<int:pk>/{action}/",
            views.CampaignActionView.as_view(),
            {"action": action},
            name=f"campaign-{action}",
        )
        for action in ("publish", "cancel", "draw")
    ],
]
