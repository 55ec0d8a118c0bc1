from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("care/", views.CaseQueueView.as_view(), name="care"),
    path("care/new/", views.CaseCreateView.as_view(), name="care-case-create"),
    path("care/settings/", views.CareSettingsView.as_view(), name="care-settings"),
    path("care/follow-ups/", views.FollowUpListView.as_view(), name="care-follow-ups"),
    *[
        path(
            f"care/follow-ups/<int:pk>/{outcome}/",
            views.FollowUpFinishView.as_view(),
            {"outcome": outcome},
            name=f"care-follow-up-{outcome}",
        )
        for outcome in ("done", "skipped")
    ],
    path("care/rules/<int:pk>/toggle/", views.RuleToggleView.as_view(), name="care-rule-toggle"),
    path("care/<int:pk>/", views.CaseDetailView.as_view(), name="care-case"),
    *[
        path(
            f"care/<int:pk>/{action}/",
            views.CaseActionView.as_view(),
            {"action": action},
            name=f"care-case-{action}",
        )
        for action in ("step", "comment", "assign", "reopen")
    ],
]
