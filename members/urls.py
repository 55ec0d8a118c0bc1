from django.urls import path

from . import review_views, views

MEMBERSHIP_ACTIONS = ["warn", "remove", "reinstate", "onboarding-introduced", "onboarding-coupon"]

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("members/", views.MemberListView.as_view(), name="members"),
    path("members/<int:pk>/", views.MemberDetailView.as_view(), name="member-detail"),
    path("members/export.csv", views.MemberExportView.as_view(), name="members-export"),
    path(
        "members/<int:pk>/export.json",
        views.MemberDataExportView.as_view(),
        name="member-data-export",
    ),
    path("members/<int:pk>/erase/", views.MemberEraseView.as_view(), name="member-erase"),
    path("members/import/", views.MemberImportView.as_view(), name="members-import"),
    path("members/import/<int:pk>/", views.MemberImportJobView.as_view(), name="member-import-job"),
    *[
        path(
            f"memberships/<int:pk>/{action}/",
            views.MembershipActionView.as_view(),
            {"action": action},
            name=f"membership-{action}",
        )
        for action in MEMBERSHIP_ACTIONS
    ],
    path("warnings/<int:pk>/revoke/", views.WarningRevokeView.as_view(), name="warning-revoke"),
    path("blocks/", views.BlockListView.as_view(), name="blocks"),
    path("blocks/<int:pk>/lift/", views.BlockLiftView.as_view(), name="block-lift"),
    path("newcomers/", views.NewcomersView.as_view(), name="newcomers"),
    path("reviews/", review_views.EntryReviewListView.as_view(), name="entry-reviews"),
    path(
        "reviews/<int:pk>/resolve/",
        review_views.EntryReviewResolveView.as_view(),
        name="entry-review-resolve",
    ),
    path("dormant/", views.DormantView.as_view(), name="dormant"),
    path("actions/", views.ActionListView.as_view(), name="actions"),
]
