from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("metrics/", views.OverviewPage.as_view(), name="metrics"),
    path("metrics/export.csv", views.OverviewExport.as_view(), name="metrics-export"),
    path("metrics/groups/<int:pk>/", views.CommunityPage.as_view(), name="metrics-community-page"),
    path(
        "metrics/groups/<int:pk>/<slug:table>.csv",
        views.CommunityTableExport.as_view(),
        name="metrics-community-export",
    ),
    path("metrics/staff/", views.StaffPage.as_view(), name="metrics-staff-page"),
    path("metrics/staff/export.csv", views.StaffExport.as_view(), name="metrics-staff-export"),
    path("metrics/commission/", views.LadderPage.as_view(), name="metrics-ladder"),
    path("metrics/reactivation/", views.ReactivationPage.as_view(), name="metrics-reactivation"),
    path(
        "metrics/reactivation/groups/<int:pk>/",
        views.ReactivationPage.as_view(),
        name="metrics-reactivation-group",
    ),
]
