from django.urls import path

from integrations.message_views import message_urlpatterns

from . import content_views, message_views, views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("communities/", views.CommunityListView.as_view(), name="communities"),
    path("communities/new/", views.CommunityCreateView.as_view(), name="community-create"),
    path("communities/<int:pk>/", views.CommunityDetailView.as_view(), name="community-detail"),
    path("communities/<int:pk>/edit/", views.CommunityEditView.as_view(), name="community-edit"),
    path(
        "communities/<int:pk>/poster.png",
        views.CommunityPosterView.as_view(),
        name="community-poster",
    ),
    path(
        "communities/<int:pk>/archive/",
        views.CommunityArchiveView.as_view(),
        {"archived": True},
        name="community-archive",
    ),
    path(
        "communities/<int:pk>/restore/",
        views.CommunityArchiveView.as_view(),
        {"archived": False},
        name="community-restore",
    ),
    path("communities/<int:pk>/rules/", views.RulesEditView.as_view(), name="community-rules"),
    path(
        "communities/<int:pk>/rules/template/",
        views.RulesTemplateView.as_view(),
        name="community-rules-template",
    ),
    path(
        "communities/<int:pk>/rules/copy/",
        views.RulesCopyView.as_view(),
        name="community-rules-copy",
    ),
    path("communities/<int:pk>/staff/", views.StaffAssignView.as_view(), name="community-staff"),
    path(
        "communities/<int:pk>/staff/<int:assignment_pk>/end/",
        views.StaffEndView.as_view(),
        name="community-staff-end",
    ),
    *message_urlpatterns(
        "communities/<int:pk>/messages/",
        (
            message_views.GroupMessagesView,
            message_views.GroupMessageEditView,
            message_views.GroupMessagePreviewView,
            message_views.GroupMessageResetView,
            message_views.GroupMessageRestoreView,
        ),
    ),
    path("staff/", views.StaffDirectoryView.as_view(), name="staff-directory"),
    path("tiers/", views.TierListView.as_view(), name="tiers"),
    path("tiers/<int:pk>/edit/", views.TierEditView.as_view(), name="tier-edit"),
    path("tiers/<int:pk>/retire/", views.TierDeactivateView.as_view(), name="tier-retire"),
    path("points/", views.PointsView.as_view(), name="points"),
    path("calendar/", content_views.CalendarView.as_view(), name="calendar"),
    path("plans/", content_views.PlanListView.as_view(), name="plans"),
    path("plans/new/", content_views.PlanEditView.as_view(), name="plan-create"),
    path("plans/<int:pk>/edit/", content_views.PlanEditView.as_view(), name="plan-edit"),
    path("posts/new/", content_views.PostCreateView.as_view(), name="post-create"),
    path("posts/<int:pk>/", content_views.PostEditView.as_view(), name="post-edit"),
    path(
        "points/rewards/<int:pk>/toggle/",
        views.RedemptionItemToggleView.as_view(),
        name="reward-toggle",
    ),
]
