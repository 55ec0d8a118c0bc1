"""The member pages, under /m/<org>/ (the cookie of a member session is scoped to it)."""

from django.urls import path

from .views import campaigns, coupons, entry, leaving, me, polls, posters

urlpatterns = [
    path("", campaigns.home, name="member-home"),
    path("l/<str:token>/", entry.open_link, name="member-link"),
    path("signin/", entry.signin_help, name="member-signin"),
    path("signout/", entry.signout, name="member-signout"),
    path("tg/", entry.telegram_app, name="member-telegram"),
    path("tg/session/", entry.telegram_session, name="member-telegram-session"),
    path("c/<int:pk>/", campaigns.campaign_page, name="member-campaign"),
    path("c/<int:pk>/stock/", campaigns.stock, name="member-campaign-stock"),
    path("c/<int:pk>/buy/", campaigns.buy, name="member-buy"),
    path("c/<int:pk>/team/", campaigns.team_open, name="member-team-open"),
    path("c/<int:pk>/enter/", campaigns.lottery_enter, name="member-lottery-enter"),
    path("t/<int:pk>/", campaigns.team_page, name="member-team"),
    path("t/<int:pk>/join/", campaigns.team_join, name="member-team-join"),
    path("me/", me.me, name="member-me"),
    path("me/checkin/", me.checkin, name="member-checkin"),
    path("me/coupons/", coupons.my_coupons, name="member-coupons"),
    path("me/coupons/redeem/", coupons.redeem, name="member-coupon-redeem"),
    path("me/orders/<int:pk>/", me.order_page, name="member-order"),
    path("me/orders/<int:pk>/report/", me.report_problem, name="member-report"),
    path("p/", polls.polls, name="member-polls"),
    path("p/<int:pk>/", polls.poll_page, name="member-poll"),
    path("p/<int:pk>/answer/", polls.poll_answer, name="member-poll-answer"),
    path("p/<int:pk>/results/", polls.poll_results, name="member-poll-results"),
    path("ideas/", polls.ideas, name="member-ideas"),
    path("bye/<int:pk>/", leaving.leaving_page, name="member-leaving"),
    path("poster/<str:token>/", posters.poster, name="member-poster"),
]
