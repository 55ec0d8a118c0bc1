"""core.views.ServiceActionView: the one shape of a dashboard POST that runs a service."""

import pytest
from django import forms
from django.contrib.auth.models import Group
from django.contrib.messages import constants, get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from communities import services as community_services
from communities.models import VipTier
from core.views import ServiceActionView
from tenancy.models import AuditLogEntry

pytestmark = pytest.mark.django_db


class NameForm(forms.Form):
    name = forms.CharField(max_length=20)


class WriteThenMaybeFail(ServiceActionView):
    """Writes a row, then fails the way the test asks (?fail=...)."""

    success_message = "Group made."
    success_url = "/done/"

    def perform(self, form):
        name = form.cleaned_data["name"] if form else self.request.POST.get("name", "g")
        group = Group.objects.create(name=name)
        fail = self.request.GET.get("fail")
        if fail == "message":
            raise ValidationError("That name is taken.")
        if fail == "field":
            raise ValidationError({"name": ["Too dull."], "other": ["Not a field."]})
        if fail == "denied":
            raise PermissionDenied
        return group

    def get_success_message(self, group):
        return f"{self.success_message} ({group.name})"

    def get(self, request, *args, form=None, status=200, **kwargs):
        """A page or, for HTMX, its partial; shows the form's errors when there are some."""
        body = "partial" if request.htmx else "page"
        if form is not None:
            body += " " + form.errors.as_json()
        return HttpResponse(body, status=status)


class WithForm(WriteThenMaybeFail):
    form_class = NameForm


def _post(view_class, data=None, query="", htmx=False, **kwargs):
    headers = {"HX-Request": "true"} if htmx else {}
    request = RequestFactory().post("/act/" + query, data or {}, headers=headers)
    request._messages = CookieStorage(request)
    request.htmx = HtmxDetails(request)
    response = view_class.as_view(**kwargs)(request)
    return request, response


def _messages(request):
    return [(m.level, str(m)) for m in get_messages(request)]


def test_success_redirects_with_the_message():
    request, response = _post(WriteThenMaybeFail, {"name": "a"})
    assert response.status_code == 302 and response.url == "/done/"
    assert Group.objects.filter(name="a").exists()
    assert _messages(request) == [(constants.SUCCESS, "Group made. (a)")]


def test_error_writes_nothing_and_is_flashed():
    request, response = _post(WriteThenMaybeFail, {"name": "a"}, query="?fail=message")
    assert response.status_code == 302 and response.url == "/done/"  # the error URL
    assert not Group.objects.exists()  # the row written before the error is rolled back
    assert _messages(request) == [(constants.ERROR, "That name is taken.")]


def test_error_url_may_differ_from_the_success_url():
    class Elsewhere(WriteThenMaybeFail):
        def get_error_url(self):
            return "/try-again/"

    _request, response = _post(Elsewhere, query="?fail=message")
    assert response.url == "/try-again/"


def test_invalid_form_rerenders_with_400_and_runs_no_service():
    request, response = _post(WithForm, {"name": "x" * 30})
    assert response.status_code == 400
    assert b"page" in response.content and b'"code": "max_length"' in response.content
    assert not Group.objects.exists() and _messages(request) == []


def test_service_error_goes_on_the_form_and_writes_nothing():
    request, response = _post(WithForm, {"name": "plain"}, query="?fail=field")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Too dull." in body and "Not a field." in body  # per field, else non-field
    assert '"__all__"' in body
    assert not Group.objects.exists() and _messages(request) == []


def test_invalid_status_can_be_200():
    class Lenient(WithForm):
        invalid_status = 200

    _request, response = _post(Lenient, {"name": ""})
    assert response.status_code == 200


def test_permission_denied_is_a_403_unless_it_has_a_message():
    with pytest.raises(PermissionDenied):
        _post(WriteThenMaybeFail, query="?fail=denied")
    assert not Group.objects.exists()

    class Explained(WithForm):
        permission_denied_message = "You may not use that name."

    request, response = _post(Explained, {"name": "n"}, query="?fail=denied")
    assert response.status_code == 400 and b"You may not use that name." in response.content
    assert not Group.objects.exists()


def test_get_object_answers_before_the_form():
    class Missing(WithForm):
        def get_object(self):
            raise Http404

    with pytest.raises(Http404):
        _post(Missing, {"name": "x" * 30})  # 404, not the form's 400


def test_htmx_gets_the_partial_instead_of_a_redirect():
    class Partial(WriteThenMaybeFail):
        htmx_partial = True

    request, response = _post(Partial, {"name": "h"}, htmx=True)
    assert response.status_code == 200 and response.content == b"partial"
    assert _messages(request) == [(constants.SUCCESS, "Group made. (h)")]

    request, response = _post(Partial, {"name": "h2"}, query="?fail=message", htmx=True)
    assert response.status_code == 200 and response.content == b"partial"
    assert not Group.objects.filter(name="h2").exists()
    assert _messages(request) == [(constants.ERROR, "That name is taken.")]

    _request, response = _post(Partial, {"name": "h3"})  # no HTMX: the usual redirect
    assert response.status_code == 302


def test_htmx_without_opting_in_still_redirects():
    _request, response = _post(WriteThenMaybeFail, {"name": "r"}, htmx=True)
    assert response.status_code == 302


def test_success_url_is_reversed_with_the_named_url_kwargs(org_a):
    class Named(WriteThenMaybeFail):
        success_url = "tiers"
        success_url_kwargs = ("org_slug",)

    view = Named()
    view.setup(RequestFactory().post("/"), org_slug=org_a.org.slug, pk=7)
    assert view.get_success_url(None) == reverse("tiers", kwargs={"org_slug": org_a.org.slug})


def test_a_dashboard_view_rolls_back_what_its_service_wrote(org_a, monkeypatch):
    """The base under the tenancy mixin: a service that fails after writing leaves nothing."""
    owner = org_a.actor()
    tier = community_services.tier_save(actor=owner, name="金卡", rank=1)
    real = community_services.tier_deactivate

    def deactivate_then_fail(*, actor, tier):
        real(actor=actor, tier=tier)  # saves the tier and writes an audit entry
        raise ValidationError("Something later went wrong.")

    monkeypatch.setattr(community_services, "tier_deactivate", deactivate_then_fail)
    audit_before = AuditLogEntry.objects.for_org(org_a.org).count()
    client = org_a.client_for(org_a.owner)
    response = client.post(
        reverse("tier-retire", kwargs={"org_slug": org_a.org.slug, "pk": tier.pk})
    )
    assert response.status_code == 302
    assert response.url == reverse("tiers", kwargs={"org_slug": org_a.org.slug})
    assert VipTier.objects.for_org(org_a.org).get(pk=tier.pk).is_active
    assert AuditLogEntry.objects.for_org(org_a.org).count() == audit_before
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Something later went wrong."]

    monkeypatch.setattr(community_services, "tier_deactivate", real)
    client = org_a.client_for(org_a.owner)  # a fresh session: only this request's messages
    response = client.post(
        reverse("tier-retire", kwargs={"org_slug": org_a.org.slug, "pk": tier.pk})
    )
    assert not VipTier.objects.for_org(org_a.org).get(pk=tier.pk).is_active
    assert [m.level for m in get_messages(response.wsgi_request)] == [constants.SUCCESS]


def test_a_view_may_leave_the_transactions_to_its_service():
    """`atomic = False`: perform() runs in the caller's transaction state, with no block added
    (the test itself runs in one, so count savepoints)."""
    from django.db import connection

    depths = []

    class Autocommit(WriteThenMaybeFail):
        atomic = False

        def perform(self, form):
            depths.append(len(connection.savepoint_ids))
            return super().perform(form)

    class Wrapped(Autocommit):
        atomic = True

    outside = len(connection.savepoint_ids)
    _post(Autocommit, {"name": "a"})
    _post(Wrapped, {"name": "w"})
    assert depths == [outside, outside + 1]
