from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("team/duties/", views.DutyWeekView.as_view(), name="duties"),
    path("team/duties/setup/", views.DutySetupView.as_view(), name="duty-setup"),
    path("team/duties/<int:pk>/retire/", views.DutyRetireView.as_view(), name="duty-retire"),
    path("team/duties/<int:pk>/tick/", views.DutyTickView.as_view(), name="duty-tick"),
    path("team/ticks/<int:pk>/undo/", views.TickUndoView.as_view(), name="duty-tick-undo"),
    path("goals/", views.GoalListView.as_view(), name="goals"),
    path("goals/<int:pk>/", views.GoalDetailView.as_view(), name="goal-detail"),
    path("goals/<int:pk>/drop/", views.GoalDropView.as_view(), name="goal-drop"),
    path("team/awards/", views.AwardListView.as_view(), name="awards"),
    path("team/awards/<int:pk>/", views.AwardRoundView.as_view(), name="award-round"),
    path(
        "team/awards/<int:pk>/recompute/",
        views.AwardRecomputeView.as_view(),
        name="award-recompute",
    ),
]
