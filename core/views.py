"""The dashboard's one way to change something: a POST that runs a service.

Every dashboard action has the same shape: look up what it acts on (404, 403), read a form
(400 with the form's errors), call one service, and then either show the service's
ValidationError (as form errors or flash messages) or a success message and redirect.
`ServiceActionView` is that shape once; a view says only what differs:

    class TierDeactivateView(OrgViewMixin, ServiceActionView):
        capability = "community.manage"
        success_message = gettext_lazy("Tier retired.")
        success_url = "tiers"
        success_url_kwargs = ("org_slug",)

        def get_object(self):
            return self.get_org_object(VipTier, pk=self.kwargs["pk"], is_active=True)

        def perform(self, form):
            services.tier_deactivate(actor=self.actor, tier=self.object)

A POST goes:

1. `self.object = self.get_object()`: lookups and checks that must answer 404 or 403 before
   any form error (default: None).
2. `form = self.get_form()` (default: `form_class(request.POST)`, or None without a
   `form_class`). An invalid form: `form_invalid(form)`, which re-renders the page through the
   view's own `get(request, ..., form=form, status=400)`.
3. `result = self.perform(form)` inside `transaction.atomic()` (unless `atomic = False`: the
   service then keeps its own transactions): a ValidationError rolls back
   everything the action wrote, then `service_failed(exc, form)`:
   - with a form, the errors go on it (per field where the error names one) and the form is
     re-rendered as in step 2;
   - without one, they are flashed and `error_response()` redirects to `get_error_url()`
     (by default the success URL).
   A PermissionDenied is turned into such a ValidationError when `permission_denied_message`
   is set (e.g. "you may not plan posts for every chosen group"); otherwise it stays a 403.
4. `service_succeeded(result)`: `get_success_message(result)` as a success message, then
   `success_response(result)`: a redirect to `get_success_url(result)`.

HTMX (`htmx_partial = True`, for a view whose GET already answers an HTMX request with its
partial, the "one view, full page or partial" pattern): an HTMX POST is answered with that GET,
i.e. the refreshed partial, instead of a redirect, after success and after flashed errors alike.

Nothing here knows about organizations: the dashboard's views put the tenancy mixin first
(`class X(OrgViewMixin, ServiceActionView)`), which resolves the org and checks the role.
"""

from contextlib import nullcontext

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, resolve_url
from django.views import View

from .forms import add_service_errors, flash_errors


class ServiceActionView(View):
    #: The form read from the POST (None: the action has no form of its own, or reads the
    #: POST in `perform()` and raises ValidationError with the message to flash).
    form_class = None
    #: Shown after success (a lazy string: `gettext_lazy`); empty: no message.
    success_message = ""
    #: Where to go after success: a URL name or a path, reversed with the request's URL kwargs
    #: named in `success_url_kwargs`.
    success_url = None
    success_url_kwargs: tuple[str, ...] = ()
    #: The status of a page re-rendered with form errors.
    invalid_status = 400
    #: Show a PermissionDenied raised by the service as this error instead of a 403.
    permission_denied_message = None
    #: Answer an HTMX POST with the view's GET (its partial) instead of a redirect.
    htmx_partial = False
    #: Run `perform()` in a transaction. False for a service that manages its own transactions
    #: and must run in autocommit (a flash-sale order: its Redis stock gate engages only there).
    atomic = True

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.get_form()
        if form is not None and not self.is_valid(form):
            return self.form_invalid(form)
        try:
            with transaction.atomic() if self.atomic else nullcontext():
                result = self.perform(form)
        except ValidationError as exc:
            return self.service_failed(exc, form)
        except PermissionDenied:
            if self.permission_denied_message is None:
                raise
            return self.service_failed(ValidationError(str(self.permission_denied_message)), form)
        return self.service_succeeded(result)

    # -- what the action is about, and its form ---------------------------------------------

    def get_object(self):
        """Look up (404) and check (403) what the action works on; kept as `self.object`."""
        return None

    def get_form_kwargs(self) -> dict:
        return {"data": self.request.POST}

    def get_form(self):
        if self.form_class is None:
            return None
        return self.form_class(**self.get_form_kwargs())

    def is_valid(self, form) -> bool:
        return form.is_valid()

    def form_invalid(self, form):
        """The page again with the form's errors, through the view's own GET."""
        return self.get(
            self.request, *self.args, form=form, status=self.invalid_status, **self.kwargs
        )

    # -- the service --------------------------------------------------------------------------

    def perform(self, form):
        """Call the service (inside a transaction); return what the success hooks need."""
        raise NotImplementedError(f"{type(self).__name__} must define perform()")

    # -- after it ------------------------------------------------------------------------------

    def service_failed(self, exc: ValidationError, form):
        """Nothing was written. Errors on the form, or flashed when there is none."""
        if form is not None:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        self.flash_errors(exc)
        return self.error_response()

    def flash_errors(self, exc: ValidationError) -> None:
        flash_errors(self.request, exc)

    def error_response(self):
        if self.htmx_partial and getattr(self.request, "htmx", False):
            return self.render_partial()
        return redirect(self.get_error_url())

    def get_error_url(self) -> str:
        return self.get_success_url(None)

    def service_succeeded(self, result):
        message = self.get_success_message(result)
        if message:
            messages.success(self.request, message)
        return self.success_response(result)

    def get_success_message(self, result) -> str:
        return self.success_message

    def success_response(self, result):
        if self.htmx_partial and getattr(self.request, "htmx", False):
            return self.render_partial()
        return redirect(self.get_success_url(result))

    def get_success_url(self, result) -> str:
        if self.success_url is None:
            raise NotImplementedError(
                f"{type(self).__name__} must set success_url or define get_success_url()"
            )
        kwargs = {name: self.kwargs[name] for name in self.success_url_kwargs}
        return resolve_url(self.success_url, **kwargs)

    def render_partial(self):
        """The view's GET for this HTMX request: it renders the partial, not the page."""
        return self.get(self.request, *self.args, **self.kwargs)
