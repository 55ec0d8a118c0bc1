from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("polls/", views.PollListView.as_view(), name="polls"),
    path("polls/new/", views.PollCreateView.as_view(), name="poll-create"),
    path("polls/<int:pk>/", views.PollDetailView.as_view(), name="poll"),
    path("polls/<int:pk>/close/", views.PollCloseView.as_view(), name="poll-close"),
    path("suggestions/", views.SuggestionListView.as_view(), name="suggestions"),
    path(
        "suggestions/<int:pk>/reply/",
        views.SuggestionReplyView.as_view(),
        name="suggestion-reply",
    ),
]
