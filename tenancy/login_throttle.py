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

Sign-up (tenancy/signup.py). An address or an (address, email) pair locked out of logging in is
locked out of signing up too. Sign-ups are limited per address (SIGNUP_ADDRESS_RATE: past it,
429) and per email (SIGNUP_EMAIL_RATE: past it, the page reads the same but nothing is kept or
mailed, as for password resets). A sign-up link that does not check out counts as a failed
login of the address, so guessing links spends the same budget as guessing passwords.

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
SIGNUP_ADDRESS = "signup-address"
SIGNUP_EMAIL = "signup-email"


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
            return locked_out_response(
                request, [by_address, by_account], address_limited=not by_address.allowed
            )
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            ratelimit.refund(LOGIN_ADDRESS, address, window=window)
            ratelimit.reset(LOGIN_ACCOUNT, account)
        return response


def locked_out_response(request, decisions, *, address_limited: bool):
    """The lockout page (429) with the longest wait of the refusing decisions."""
    window = _window()
    context = {"cooloff_minutes": max(1, window // 60), "address_limited": address_limited}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(max(d.retry_after for d in decisions if not d.allowed))
    return response


def _login_lockout(request, email: str = ""):
    """Is this address (or this address with this email) locked out of logging in? Counts
    nothing."""
    address = client_address(request) or "unknown"
    window = _window()
    by_address = ratelimit.peek(
        LOGIN_ADDRESS, address, limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT, window=window
    )
    decisions = [by_address]
    if email:
        decisions.append(
            ratelimit.peek(
                LOGIN_ACCOUNT,
                f"{address}|{email.strip().lower()}",
                limit=settings.AXES_FAILURE_LIMIT,
                window=window,
            )
        )
    if all(d.allowed for d in decisions):
        return None
    return locked_out_response(request, decisions, address_limited=not by_address.allowed)


def signup_refused(request, email: str):
    """A 429 response when this sign-up may not go ahead (locked out, or too many sign-ups from
    the address); None when it may. Takes one of the address's sign-up slots."""
    locked = _login_lockout(request, email)
    if locked is not None:
        return locked
    address = client_address(request) or "unknown"
    limit, window = ratelimit.parse_rate(settings.SIGNUP_ADDRESS_RATE)
    decision = ratelimit.hit(SIGNUP_ADDRESS, address, limit=limit, window=window)
    if decision.allowed:
        return None
    response = render(request, "registration/signup.html", {"throttled": True}, status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


def signup_mail_allowed(email: str) -> bool:
    """One of the email's sign-up slots; past SIGNUP_EMAIL_RATE nothing is kept or mailed."""
    limit, window = ratelimit.parse_rate(settings.SIGNUP_EMAIL_RATE)
    return ratelimit.hit(SIGNUP_EMAIL, email.strip().lower(), limit=limit, window=window).allowed


def link_guesses_refused(request):
    """The lockout page when the address has used up its failed logins (links included)."""
    return _login_lockout(request)


def count_failed_link(request) -> None:
    """A sign-up link that did not check out: one failed login of the address."""
    address = client_address(request) or "unknown"
    ratelimit.hit(
        LOGIN_ADDRESS, address, limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT, window=_window()
    )


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
