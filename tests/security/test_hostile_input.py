"""Hostile input is a 4xx in the right format, refused before any query runs (issue 19, items 6
and 7): deep JSON, huge bodies, lone surrogates, NUL characters in filters and addresses."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CommunityFactory, MemberFactory

EVENTS = "/api/v1/events/"


def _api_error(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    if code:
        assert error["code"] == code
    return error


# --- item 6: bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_json_nested_beyond_the_decoder_is_a_400_not_a_500(org_a, depth):
    body = "[" * depth + "]" * depth
    response = org_a.api_client().post(EVENTS, data=body, content_type="application/json")
    _api_error(response, 400, "parse_error")


def test_json_nested_below_the_decoder_limit_but_too_deep_is_a_400(org_a):
    nested = {"events": []}
    inner = nested["events"]
    for _ in range(200):
        inner.append([])
        inner = inner[0]
    response = org_a.api_client().post(
        EVENTS, nested, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "nested too deeply" in _api_error(response, 400, "parse_error")["message"]


def test_a_20_mb_body_is_a_json_413_on_api_routes(org_a):
    body = json.dumps({"events": [{"id": "x", "text": "a" * (20 * 1024 * 1024)}]})
    with CaptureQueriesContext(connection) as queries:
        response = org_a.api_client().post(EVENTS, data=body, content_type="application/json")
    _api_error(response, 413, "too_large")
    assert len(queries) == 0  # refused before authentication, before any query


def test_the_parser_reads_no_more_than_the_limit_whatever_was_announced(settings):
    from io import BytesIO

    from core.parsers import JSONParser, PayloadTooLarge

    settings.MAX_REQUEST_BYTES = 1024
    stream = BytesIO(b"[" + b" " * 4096 + b"]")  # e.g. a chunked body with no Content-Length
    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(stream, "application/json", {})
    assert stream.tell() == 1025  # stopped reading one byte past the limit


def test_a_huge_form_post_on_a_dashboard_page_is_a_413_page(org_a):
    client = org_a.client_for(org_a.owner)
    response = client.post(
        f"/o/{org_a.org.slug}/communities/new/", {"name": "x" * (11 * 1024 * 1024)}
    )
    assert response.status_code == 413


def test_a_lone_surrogate_in_json_is_not_a_500(org_a):
    body = '{"name": "\\ud800 group", "platform": "wechat", "external_id": "g-\\udfff"}'
    response = org_a.api_client().post(
        "/api/v1/communities/", data=body, content_type="application/json"
    )
    assert response.status_code in (201, 400), response.content[:300]


# --- item 7: filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["status=%00", "status=paid%00", "campaign=1%00", "%00=1", "cursor=%00"],
)
def test_nul_in_an_api_filter_is_a_400_before_any_query(org_a, query):
    client = org_a.api_client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/orders/?{query}")
    error = _api_error(response, 400, "invalid")
    assert error["fields"]
    assert len(queries) == 0


@pytest.mark.parametrize("page", ["members/", "communities/", "members/export.csv", "blocks/"])
@pytest.mark.parametrize("param", ["q", "tag", "status", "community", "page"])
def test_nul_in_a_dashboard_filter_is_a_400_page(org_a, page, param):
    MemberFactory(organization=org_a.org)
    CommunityFactory(organization=org_a.org)
    response = org_a.client_for(org_a.owner).get(f"/o/{org_a.org.slug}/{page}?{param}=a%00b")
    assert response.status_code == 400
    assert not getattr(response, "streaming", False)  # no CSV header streamed, then a failure


def test_nul_in_the_path_is_a_400(org_a):
    assert org_a.api_client().get("/api/v1/members/%00/").status_code == 400
    assert org_a.client_for(org_a.owner).get("/invite/abc%00def/").status_code == 400


def test_the_member_export_with_a_clean_filter_still_streams(org_a):
    MemberFactory(organization=org_a.org, display_name="小王")
    response = org_a.client_for(org_a.owner).get(
        f"/o/{org_a.org.slug}/members/export.csv?q=%E5%B0%8F"
    )
    assert response.status_code == 200 and response.streaming
    assert "小王" in b"".join(response.streaming_content).decode("utf-8-sig")


# --- dates at the edge of Python's range (found by tests/fuzz/test_hostile_values.py) -----------


@pytest.mark.parametrize(
    "path",
    [
        "calendar/?date=9999-12-31",
        "calendar/?date=0001-01-01&view=month",
        "metrics/?start=0001-01-01&end=0001-01-31",
        "metrics/?start=9999-12-01&end=9999-12-31",
        "metrics/export.csv?start=0001-01-01&end=0001-01-31",
        "metrics/staff/?month=9999-12",
        "metrics/staff/?month=0001-01",
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_not_a_500(org_a, path):
    client = org_a.client_for(org_a.owner)
    client.raise_request_exception = False
    assert client.get(f"/o/{org_a.org.slug}/{path}").status_code < 500


@pytest.mark.parametrize(
    "query",
    ["start=0001-01-01&end=0001-01-31", "start=9999-12-01&end=9999-12-31", "month=9999-12"],
)
def test_metric_windows_at_the_edge_are_a_400_in_the_api(org_a, query):
    client = org_a.api_client()
    client.raise_request_exception = False
    for path in ["/api/v1/metrics/overview/", "/api/v1/metrics/staff/"]:
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 400), (path, response.status_code)


def test_refusals_before_the_locale_middleware_still_speak_the_clients_language(org_a):
    english = org_a.api_client().get("/api/v1/orders/?status=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert "NUL" in english.json()["error"]["message"]
    assert english.json()["error"]["message"].startswith("Remove")
    chinese = org_a.api_client().get("/api/v1/orders/?status=%00", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["error"]["message"] == "请去掉查询参数中的 NUL 字符。"
