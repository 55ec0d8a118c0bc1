"""Security headers in production settings (DEBUG off): Content-Security-Policy, HSTS, frame
options, nosniff, referrer policy; and pages that keep to the policy (no inline script/style)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.urlwalk import all_routes

PAGES = ["login", "password_reset"]


def _csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_production_settings_are_in_force(settings):
    assert settings.DEBUG is False
    assert settings.SECURE_HSTS_SECONDS >= 60 * 60 * 24 * 365
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.SECURE_HSTS_PRELOAD is False  # opt-in, as docs/deployment.md says
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_pages_send_the_security_headers(client, page):
    response = client.get(reverse(page), secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


def test_hsts_preload_is_sent_only_when_the_operator_opts_in(client, db, settings):
    settings.SECURE_HSTS_PRELOAD = True
    response = Client().get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_the_deployment_guide_says_what_the_code_does():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs/deployment.md").read_text()
    row = next(line for line in guide.splitlines() if line.startswith("| `SECURE_HSTS_PRELOAD`"))
    assert row.split("|")[2].strip() == "off"


def test_hsts_is_only_sent_over_https(client, db):
    assert "Strict-Transport-Security" not in client.get(reverse("login"))


def test_api_responses_carry_the_headers_too(org_a):
    response = org_a.api_client().get("/api/v1/me/", secure=True)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" in response


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"(href|src|action)=[\"']?\s*javascript:", re.IGNORECASE)


def _assert_keeps_to_the_policy(name, html):
    for pattern, what in [
        (INLINE_SCRIPT, "inline <script>"),
        (INLINE_STYLE, "inline style"),
        (INLINE_HANDLER, "inline event handler"),
        (JS_URL, "javascript: URL"),
    ]:
        match = pattern.search(html)
        assert match is None, (
            f"{name}: {what} the CSP blocks: {html[match.start() : match.start() + 120]}"
        )


def _org_list_pages():
    return [
        r
        for r in all_routes()
        if r.is_org_route and not r.object_kwargs and not r.name.startswith("api:")
    ]


def test_every_dashboard_page_keeps_to_the_policy(org_a):
    """Every page under /o/<org>/ without object ids, as the owner: nothing inline that the
    Content-Security-Policy would block (new pages are covered automatically)."""
    from tests.factories import CommunityFactory, MembershipFactory

    community = CommunityFactory(organization=org_a.org)
    MembershipFactory(organization=org_a.org, community=community)
    client = org_a.client_for(org_a.owner)
    checked = 0
    for route in _org_list_pages():
        url = reverse(route.name, kwargs={"org_slug": org_a.org.slug})
        response = client.get(url)
        content_type = response.get("Content-Type", "")
        if response.status_code != 200 or not content_type.startswith("text/html"):
            continue
        _assert_keeps_to_the_policy(route.name, response.content.decode())
        checked += 1
    assert checked >= 10


@pytest.mark.django_db
@pytest.mark.parametrize("page", [*PAGES, "password_reset_done"])
def test_account_pages_keep_to_the_policy(client, page):
    _assert_keeps_to_the_policy(page, client.get(reverse(page)).content.decode())


def test_error_page_keeps_to_the_policy():
    from django.template.loader import render_to_string

    _assert_keeps_to_the_policy("500", render_to_string("500.html"))
