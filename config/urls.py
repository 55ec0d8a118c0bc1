from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from campaigns import views as campaign_views
from campaigns.urls import org_urlpatterns as campaign_urlpatterns
from care.urls import org_urlpatterns as care_urlpatterns
from communities.urls import org_urlpatterns as community_urlpatterns
from config.monitoring import metrics_view
from connectors.urls import org_urlpatterns as connector_urlpatterns
from connectors.urls import public_urlpatterns as connector_public_urlpatterns
from core.health import healthz, livez, readyz
from core.schema_view import SchemaView
from engagement.urls import org_urlpatterns as engagement_urlpatterns
from integrations.urls import org_urlpatterns as integration_urlpatterns
from members.urls import org_urlpatterns as member_urlpatterns
from metrics.urls import org_urlpatterns as metrics_urlpatterns
from teamwork.urls import org_urlpatterns as teamwork_urlpatterns
from tenancy import views as tenancy_views
from tenancy.forms import LoginForm
from tenancy.login_throttle import GuardedLoginView, ThrottledPasswordResetView
from tenancy.urls import org_urlpatterns

handler400 = "config.views.handler400"
handler404 = "config.views.handler404"
handler500 = "config.views.handler500"

account_urlpatterns = [
    path(
        "login/",
        GuardedLoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("signup/", tenancy_views.SignupView.as_view(), name="signup"),
    path("signup/sent/", tenancy_views.SignupSentView.as_view(), name="signup-sent"),
    path(
        "signup/verify/<uidb64>/<token>/",
        tenancy_views.SignupVerifyView.as_view(),
        name="signup-verify",
    ),
]

api_urlpatterns = [
    path("", include("tenancy.api_urls")),
    path("", include("communities.api_urls")),
    path("", include("ingestion.api_urls")),
    path("", include("integrations.api_urls")),
    path("", include("members.api_urls")),
    path("", include("campaigns.api_urls")),
    path("", include("care.api_urls")),
    path("", include("metrics.api_urls")),
]

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("orgs/", tenancy_views.org_list, name="org-list"),
    path("o/<slug:org_slug>/", include(org_urlpatterns)),
    path("o/<slug:org_slug>/", include(community_urlpatterns)),
    path("o/<slug:org_slug>/", include(member_urlpatterns)),
    path("o/<slug:org_slug>/", include(integration_urlpatterns)),
    path("o/<slug:org_slug>/", include(campaign_urlpatterns)),
    path("o/<slug:org_slug>/", include(care_urlpatterns)),
    path("o/<slug:org_slug>/", include(metrics_urlpatterns)),
    path("o/<slug:org_slug>/", include(engagement_urlpatterns)),
    path("o/<slug:org_slug>/", include(teamwork_urlpatterns)),
    path("o/<slug:org_slug>/", include(connector_urlpatterns)),
    path("", include(connector_public_urlpatterns)),
    path("accounts/", include(account_urlpatterns)),
    path(
        "invite/<str:token>/",
        tenancy_views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("healthz", healthz, name="healthz"),  # the name before the livez/readyz split
    path("metrics", metrics_view, name="metrics"),
    path(
        "lottery/<slug:org>/<int:pk>/",
        campaign_views.lottery_verification,
        name="lottery-verification",
    ),
    path("m/<slug:org>/", include("portal.urls")),
    path("api/v1/", include((api_urlpatterns, "api"), namespace="api")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves its script as a file: the Content-Security-Policy allows no inline
    # script (and templates/api_docs.html moves the page's inline style to a static file).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
