from django.urls import path

from . import notification_views, views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path(
        "first-steps/dismiss/",
        views.FirstStepsDismissView.as_view(),
        name="first-steps-dismiss",
    ),
    path("team/", views.TeamView.as_view(), name="team"),
    *[
        path(
            f"team/<int:pk>/{action}/",
            views.TeamMemberActionView.as_view(),
            {"action": action},
            name=f"team-member-{action}",
        )
        for action in ("role", "deactivate", "reactivate")
    ],
    path(
        "team/invitations/<int:pk>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("audit/", views.AuditLogView.as_view(), name="audit-log"),
    path("settings/", views.OrganizationSettingsView.as_view(), name="org-settings"),
    path("notifications/", notification_views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/settings/",
        notification_views.NotificationSettingsView.as_view(),
        name="notification-settings",
    ),
]
