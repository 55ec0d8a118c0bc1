from django.urls import path

from . import api

urlpatterns = [
    path("metrics/overview/", api.OverviewView.as_view(), name="metrics-overview"),
    path("metrics/overview.csv", api.OverviewExportView.as_view(), name="metrics-overview-csv"),
    path(
        "metrics/communities/<int:pk>/",
        api.CommunityMetricsView.as_view(),
        name="metrics-community",
    ),
    path(
        "metrics/communities/<int:pk>/<slug:table>.csv",
        api.CommunityTableExportView.as_view(),
        name="metrics-community-csv",
    ),
    path("metrics/staff/", api.StaffPerformanceView.as_view(), name="metrics-staff"),
    path("metrics/staff.csv", api.StaffPerformanceExportView.as_view(), name="metrics-staff-csv"),
    path(
        "metrics/commission-ladder/",
        api.CommissionLadderView.as_view(),
        name="metrics-commission-ladder",
    ),
]
