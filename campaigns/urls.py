from django.urls import path

from . import coupon_views, views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", views.FlashSaleCreateView.as_view(), name="campaign-create"),
    path("orders/export.csv", views.OrdersExportView.as_view(), name="orders-export"),
    path("campaigns/<int:pk>/", views.CampaignLiveView.as_view(), name="campaign-live"),
    path(
        "campaigns/<int:pk>/poster.png", views.CampaignPosterView.as_view(), name="campaign-poster"
    ),
    path("coupons/", coupon_views.CouponListView.as_view(), name="coupons"),
    path("coupons/new/", coupon_views.CouponCreateView.as_view(), name="coupon-create"),
    path("coupons/<int:pk>/edit/", coupon_views.CouponEditView.as_view(), name="coupon-edit"),
    path("coupons/<int:pk>/retire/", coupon_views.CouponRetireView.as_view(), name="coupon-retire"),
    path("coupons/issue/", coupon_views.CouponIssueView.as_view(), name="coupon-issue"),
    path("coupons/issued/", coupon_views.IssuedCouponListView.as_view(), name="issued-coupons"),
    path(
        "coupons/issued/<int:pk>/",
        coupon_views.IssuedCouponView.as_view(),
        name="issued-coupon",
    ),
    path("coupons/settings/", coupon_views.CouponSettingsView.as_view(), name="coupon-settings"),
    path("coupons/perks/new/", coupon_views.PerkCreateView.as_view(), name="coupon-perk-create"),
    path(
        "coupons/perks/<int:pk>/toggle/",
        coupon_views.PerkToggleView.as_view(),
        name="coupon-perk-toggle",
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
