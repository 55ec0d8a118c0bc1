"""QR posters (seed 004: 扫码进群, 海报): a group's (its join link) and a campaign's (its public
page), downloadable from the dashboard, fetched by a bot from a signed address, sent on the
海报 keyword. No QR decoder is installed: the tests read the PNG's pixels at each module of
the code and compare them with segno's matrix for the link."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from PIL import Image

from campaigns import posters as campaign_posters
from communities import posters as group_posters
from communities import services
from core import posters
from integrations.models import Action
from tests.factories import CampaignFactory, StaffAssignmentFactory
from tests.tenant_routes import _campaign_in_group

pytestmark = pytest.mark.django_db
JOIN = "https://work.weixin.qq.com/gm/7d3c1a2b9e"
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def matrix(link: str) -> list[list[bool]]:
    return [[bool(v) for v in row] for row in posters.qr_matrix(link).matrix]


def assert_poster_holds(png: bytes, link: str) -> None:
    wanted = matrix(link)
    left, top, module = posters.qr_box(len(wanted))
    image = Image.open(io.BytesIO(png)).convert("L")
    got = [
        [
            image.getpixel((left + x * module + module // 2, top + y * module + module // 2)) < 128
            for x in range(len(wanted))
        ]
        for y in range(len(wanted))
    ]
    assert got == wanted
    assert matrix(link + "x") != wanted  # the check tells links apart


@pytest.fixture
def group(org_a):
    return services.community_create(actor=org_a.actor(), name="健康优选1群", join_url=JOIN)


def test_the_group_poster_is_a_png_whose_code_is_the_join_link(group):
    png = group_posters.poster_png(group)
    assert png.startswith(b"\x89PNG")
    assert_poster_holds(png, JOIN)


def test_the_campaign_poster_holds_its_public_page(org_a):
    campaign = CampaignFactory(organization=org_a.org, name="周末秒杀")
    link = campaign_posters.poster_link(campaign)
    assert link.endswith(f"/m/org-a/c/{campaign.pk}/")
    assert_poster_holds(campaign_posters.poster_png(campaign), link)


@override_settings(POSTER_FONT=LATIN_FONT)
def test_with_a_font_the_text_is_printed_above_and_below_the_code(org_a):
    posters._font_file.cache_clear()
    try:
        plain = posters.render(JOIN, [])
        printed = posters.render(JOIN, ["Shop", "Weekend sale", "Scan the code"])
    finally:
        posters._font_file.cache_clear()
    assert_poster_holds(printed, JOIN)
    top = (0, 0, posters.WIDTH, 250)
    band = Image.open(io.BytesIO(plain)).convert("L").crop(top)
    text = Image.open(io.BytesIO(printed)).convert("L").crop(top)
    assert band.getextrema()[0] > 200  # no ink in the band without text
    assert text.getextrema()[0] < 100  # the lines are there


@pytest.mark.cjk_font
def test_with_the_installed_chinese_font_the_chinese_text_is_printed():
    """The font fontconfig finds for Chinese (`fc-list :lang=zh`; CI installs
    fonts-wqy-microhei) prints the lines: ink in the text band, and different characters give
    different ink (not the same empty boxes for every glyph a font lacks)."""
    posters._font_file.cache_clear()
    try:
        assert posters.font_for(["健康优选"]) is not None
        plain = posters.render(JOIN, [])
        printed = posters.render(JOIN, ["健康优选", "健康优选1群", "扫码进群"])
        other = posters.render(JOIN, ["幸福生活", "幸福生活2群", "长按识别"])
    finally:
        posters._font_file.cache_clear()
    assert_poster_holds(printed, JOIN)
    top = (0, 0, posters.WIDTH, 250)
    band = Image.open(io.BytesIO(plain)).convert("L").crop(top)
    text = Image.open(io.BytesIO(printed)).convert("L").crop(top)
    assert band.getextrema()[0] > 200  # no ink without text
    assert text.getextrema()[0] < 100  # the lines are there
    other_text = Image.open(io.BytesIO(other)).convert("L").crop(top)
    assert text.tobytes() != other_text.tobytes()


def test_without_a_chinese_font_the_poster_is_the_code_alone(monkeypatch):
    monkeypatch.setattr(posters, "_font_file", lambda cjk: None)
    png = posters.render(JOIN, ["健康优选", "健康优选1群", "扫码进群"])
    band = Image.open(io.BytesIO(png)).convert("L").crop((0, 0, posters.WIDTH, 250))
    assert band.getextrema()[0] > 200
    assert_poster_holds(png, JOIN)


@pytest.mark.parametrize(
    "bad", ["ftp://example.com/join", "javascript:alert(1)", "not a link", "http://"]
)
def test_the_join_link_must_be_a_web_address(org_a, group, bad):
    with pytest.raises(ValidationError) as refused:
        services.community_update(actor=org_a.actor(), community=group, join_url=bad)
    assert "join_url" in refused.value.message_dict
    group.refresh_from_db()
    assert group.join_url == JOIN


def test_the_operator_enters_the_join_link_on_the_group_settings(org_a, group):
    client = org_a.client_for(org_a.owner)
    form = {"name": group.name, "kind": "general", "platform": "wechat", "capacity": 500}
    bad = client.post(f"/o/org-a/communities/{group.pk}/edit/", {**form, "join_url": "ftp://x.y/z"})
    assert bad.status_code == 400
    ok = client.post(
        f"/o/org-a/communities/{group.pk}/edit/", {**form, "join_url": "https://t.me/+abc"}
    )
    assert ok.status_code == 302
    group.refresh_from_db()
    assert group.join_url == "https://t.me/+abc"


def test_the_dashboard_download_and_who_may_have_it(org_a, org_b, group):
    url = f"/o/org-a/communities/{group.pk}/poster.png"
    owner = org_a.client_for(org_a.owner).get(url + "?download=1")
    assert owner.status_code == 200
    assert owner["Content-Type"] == "image/png"
    assert owner["Content-Disposition"].startswith("attachment;")
    assert org_a.client_for(org_a.analyst).get(url).status_code == 200  # read-only sees it
    assert org_a.client_for(org_a.deputy).get(url).status_code == 404  # not their group
    StaffAssignmentFactory(organization=org_a.org, community=group, user=org_a.deputy)
    assert org_a.client_for(org_a.deputy).get(url).status_code == 200
    assert org_b.client_for(org_b.owner).get(url).status_code == 404
    assert org_a.client_for(org_a.outsider).get(url).status_code == 404
    page = org_a.client_for(org_a.owner).get(f"/o/org-a/communities/{group.pk}/")
    assert f'href="{url}?download=1"' in page.content.decode()


def test_a_group_without_a_join_link_has_no_poster_and_its_page_asks_for_one(org_a):
    bare = services.community_create(actor=org_a.actor(), name="新群")
    client = org_a.client_for(org_a.owner)
    assert client.get(f"/o/org-a/communities/{bare.pk}/poster.png").status_code == 404
    page = client.get(f"/o/org-a/communities/{bare.pk}/").content.decode()
    assert 'data-testid="poster-needs-link"' in page


def test_the_campaign_page_offers_its_poster(org_a, org_b):
    from campaigns.models import Campaign

    campaign = Campaign.objects.for_org(org_a.org).get(pk=_campaign_in_group(org_a))
    url = f"/o/org-a/campaigns/{campaign.pk}/poster.png"
    response = org_a.client_for(org_a.owner).get(url)
    assert response.status_code == 200
    assert_poster_holds(response.content, campaign_posters.poster_link(campaign))
    page = org_a.client_for(org_a.owner).get(f"/o/org-a/campaigns/{campaign.pk}/")
    assert f'href="{url}?download=1"' in page.content.decode()
    assert org_b.client_for(org_b.owner).get(url).status_code == 404


def test_the_signed_address_serves_the_poster_to_anyone_for_a_week(
    org_a, org_b, group, time_machine
):
    time_machine.move_to("2026-11-20 12:00:00+00:00", tick=False)
    address = group_posters.poster_url(group)
    path = address.split("://", 1)[1].split("/", 1)[1]
    response = Client().get("/" + path)
    assert response.status_code == 200
    assert_poster_holds(response.content, JOIN)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert Client().get(f"/m/org-a/poster/{token[:-2]}xx/").status_code == 404  # tampered
    assert Client().get(f"/m/{org_b.org.slug}/poster/{token}/").status_code == 404
    time_machine.move_to("2026-11-27 12:01:00+00:00", tick=False)
    assert Client().get("/" + path).status_code == 404  # expired


def test_a_campaign_poster_address_needs_a_published_campaign(org_a):
    draft = CampaignFactory(organization=org_a.org, status="draft")
    token = posters.sign("c", org_a.org.pk, draft.pk)
    assert Client().get(f"/m/org-a/poster/{token}/").status_code == 404
    live = CampaignFactory(organization=org_a.org)
    token = posters.sign("c", org_a.org.pk, live.pk)
    assert Client().get(f"/m/org-a/poster/{token}/").status_code == 200


def _post(org_a, events):
    response = org_a.api_client().post(
        "/api/v1/events/", {"events": events}, content_type="application/json"
    )
    assert response.status_code == 200, response.content


def _ev(n, type_, **extra):
    return {
        "id": f"poster-{n}",
        "type": type_,
        "occurred_at": "2026-11-20T12:00:00+00:00",
        "platform": "wechat",
        "community": "g-poster",
        "user": "u1",
        **extra,
    }


def test_the_keyword_brings_the_group_poster_privately(org_a):
    services.community_create(
        actor=org_a.actor(), name="健康优选1群", external_id="g-poster", join_url=JOIN
    )
    _post(org_a, [_ev(1, "member.joined"), _ev(2, "message.posted", text=" 海报 ")])
    notify = Action.objects.for_org(org_a.org).get(kind="member.notify")
    image = notify.payload["image_url"]
    assert notify.payload["user_external_id"] == "u1"
    assert notify.payload["text"].startswith("「健康优选1群」的进群海报在这里")
    assert notify.payload["text"].endswith(image)
    response = Client().get("/" + image.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200
    assert_poster_holds(response.content, JOIN)


def test_no_poster_message_while_the_group_has_no_join_link(org_a):
    services.community_create(actor=org_a.actor(), name="新群", external_id="g-poster")
    _post(org_a, [_ev(1, "member.joined"), _ev(2, "message.posted", text="海报")])
    assert not Action.objects.for_org(org_a.org).filter(kind="member.notify").exists()


def test_signatures_name_one_kind_and_org(org_a):
    token = posters.sign("g", org_a.org.pk, 5)
    assert posters.unsign(token) == ("g", org_a.org.pk, 5)
    assert posters.unsign(token, max_age=-1) is None
    assert posters.unsign("nonsense") is None
    assert posters.unsign(posters.sign("x", 1, 2)) is None
    assert timedelta(seconds=posters.URL_MAX_AGE) == timedelta(days=7)
