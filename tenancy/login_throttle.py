"""Limits on the account pages that anyone can reach: login and password reset.

django-axes reads the attempted login from `axes_username`: the email, trimmed and lower-cased,
so "Boss@Example.com " and "boss@example.com" share one failure counter.

Login. django-axes keeps its lockout per (account, address) with a record of each attempt.
In front of it, `GuardedLoginView` takes a slot from two atomic counters *before* the password
is checked: one per (account, address), AXES_FAILURE_LIMIT per AXES_COOLOFF_TIME, and one per
address, LOGIN_ADDRESS_FAILURE_LIMIT per AXES_COOLOFF_TIME, which stops one password tried
across many accounts. Reserving first is what makes the limits hold under concurrency: 32
parallel guesses cannot all pass a "fewer than five failures so far?" check. A successful login
gives its slot back (and clears the account's counter, as axes does), so the counters count
failures only.

Password reset. Limited per address (PASSWORD_RESET_ADDRESS_RATE: past it, 429) and per account
email (PASSWORD_RESET_ACCOUNT_RATE: past it, the page reads the same but no mail goes out, so
the limit reveals nothing about which addresses have accounts). The mail itself is composed
and sent by a Celery task, never inside the request.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation

from core import ratelimit
from core.net import client_address

LOGIN_ADDRESS = "login-address"
LOGIN_ACCOUNT = "login-account"
RESET_ADDRESS = "password-reset-address"
RESET_ACCOUNT = "password-reset-account"


def axes_username(request, credentials):
    raw = (credentials or {}).get("username") or request.POST.get("username") or ""
    return raw.strip().lower()


def _window() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


class GuardedLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        address = client_address(request) or "unknown"
        account = f"{address}|{axes_username(request, None)}"
        window = _window()
        by_address = ratelimit.hit(
            LOGIN_ADDRESS, address, limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT, window=window
        )
        by_account = ratelimit.hit(
            LOGIN_ACCOUNT, account, limit=settings.AXES_FAILURE_LIMIT, window=window
        )
        if not (by_address.allowed and by_account.allowed):
            # not tried, so not a failure: give back what this attempt took
            ratelimit.refund(LOGIN_ADDRESS, address, window=window)
            ratelimit.refund(LOGIN_ACCOUNT, account, window=window)
            context = {
                "cooloff_minutes": max(1, window // 60),
                "address_limited": not by_address.allowed,
            }
            response = render(request, "registration/locked_out.html", context, status=429)
            response["Retry-After"] = str(max(by_address.retry_after, by_account.retry_after))
            return response
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            ratelimit.refund(LOGIN_ADDRESS, address, window=window)
            ratelimit.reset(LOGIN_ACCOUNT, account)
        return response


class QueuedPasswordResetForm(PasswordResetForm):
    def save(self, **kwargs):
        """Queue one mail per matching active account; the task makes the link and sends."""
        from .tasks import send_password_reset

        language = translation.get_language() or settings.LANGUAGE_CODE
        for user in self.get_users(self.cleaned_data["email"]):
            send_password_reset.delay(user.pk, language)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm

    def form_valid(self, form):
        address = client_address(self.request) or "unknown"
        limit, window = ratelimit.parse_rate(settings.PASSWORD_RESET_ADDRESS_RATE)
        by_address = ratelimit.hit(RESET_ADDRESS, address, limit=limit, window=window)
        if not by_address.allowed:
            context = self.get_context_data(form=form, throttled=True)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(by_address.retry_after)
            return response
        email = form.cleaned_data["email"].strip().lower()
        limit, window = ratelimit.parse_rate(settings.PASSWORD_RESET_ACCOUNT_RATE)
        if ratelimit.hit(RESET_ACCOUNT, email, limit=limit, window=window).allowed:
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())
