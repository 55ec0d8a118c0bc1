import html
import shlex
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from campaigns import lottery, lottery_verify, services
from campaigns.models import Campaign, LotteryDraw, LotteryWinner
from communities import services as community_services
from core.errors import Conflict
from integrations.models import Action

from .test_flash_sales import _buyers

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "体彩大乐透 第 26140 期 开奖号码"


def _verify(*args):
    return subprocess.run(
        [sys.executable, "-I", str(ROOT / "campaigns" / "lottery_verify.py"), *args],
        capture_output=True,
        text=True,
    )


def _winner_lines(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.splitlines() if ". entrant " in line]


@pytest.fixture
def draw_setup(org_a):
    actor = org_a.actor()
    group = community_services.community_create(actor=actor, name="抽奖群")
    now = timezone.now()
    campaign = lottery.lottery_create(
        actor=actor,
        name="周年抽奖",
        product_name="抽奖",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=30),
        public_source=SOURCE,
        public_value_at=now + timedelta(minutes=40),
        draw_at=now + timedelta(minutes=41),
        communities=[group],
        prizes=[("一等奖 鱼油一瓶", 1), ("二等奖 试用装", 2), ("参与奖 5元券", 10)],
    )
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    return actor, group, campaign


def test_commitment_is_published_and_seed_kept_secret_until_the_draw(org_a, draw_setup):
    _actor, _group, campaign = draw_setup
    draw = LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign)
    assert draw.commitment == lottery_verify.commitment_of(draw.seed) and len(draw.seed) == 64
    page = Client().get(f"/lottery/{org_a.org.slug}/{campaign.pk}/").content.decode()
    assert draw.commitment in page and draw.seed not in page


def test_entries_draw_and_independent_verification(org_a, draw_setup, time_machine):
    actor, group, campaign = draw_setup
    members = _buyers(org_a.org, group, 8)
    for m in members:
        lottery.lottery_enter(actor=actor, campaign=campaign, member=m)
    lottery.lottery_enter(actor=actor, campaign=campaign, member=members[0])  # twice: one entry
    with pytest.raises(ValidationError):
        lottery.lottery_draw(actor=actor, campaign=campaign, public_value="1")  # entries open
    draw = LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign)
    time_machine.move_to(campaign.ends_at + timedelta(seconds=30), tick=False)
    with pytest.raises(services.OrderRefused):
        lottery.lottery_enter(
            actor=actor, campaign=campaign, member=_buyers(org_a.org, group, 1, prefix="late")[0]
        )
    assert lottery.run_due(org_a.org) == 1  # the entrant list is frozen at the close
    assert lottery.run_due(org_a.org) == 0
    with pytest.raises(Conflict, match="26140"):  # the value is not published yet
        lottery.lottery_draw(actor=actor, campaign=campaign, public_value="01 02 03 04 05 06 07")
    time_machine.move_to(draw.public_value_at + timedelta(minutes=1), tick=False)
    with pytest.raises(Conflict, match="26140"):  # no draw without the named value
        lottery.lottery_draw(actor=actor, campaign=campaign, public_value="  ")
    assert not LotteryWinner.objects.for_org(org_a.org).filter(campaign=campaign).exists()
    value = "03 11 19 24 33 + 02 09"
    winners = lottery.lottery_draw(actor=actor, campaign=campaign, public_value=value)
    assert len(winners) == 8  # 13 prizes, 8 entrants: everyone wins something, each once
    assert len({w.member_id for w in winners}) == 8
    assert [w.prize.name for w in winners][:3] == [
        "一等奖 鱼油一瓶",
        "二等奖 试用装",
        "二等奖 试用装",
    ]
    assert Action.objects.for_org(org_a.org).filter(kind="member.notify").count() == 8
    with pytest.raises(ValidationError):
        lottery.lottery_draw(actor=actor, campaign=campaign, public_value=value)  # once only
    draw.refresh_from_db()
    assert draw.public_value == value and draw.draw_rule == 2
    assert draw.entries_frozen_at < draw.public_value_at
    entrants = sorted(m.pk for m in members)
    result = _verify(
        "--seed",
        draw.seed,
        "--commitment",
        draw.commitment,
        "--public-value",
        value,
        "--entries-hash",
        draw.entries_hash,
        "--entrants",
        ",".join(map(str, entrants)),
        "--prizes",
        "一等奖 鱼油一瓶:1,二等奖 试用装:2,参与奖 5元券:10",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stored = LotteryWinner.objects.for_org(org_a.org).filter(campaign=campaign).order_by("position")
    expected = [f"{w.position + 1}. entrant {w.member_id}: {w.prize.name}" for w in stored]
    assert _winner_lines(result.stdout) == expected
    # the public page's command line recomputes the same winners
    page = Client().get(f"/lottery/{org_a.org.slug}/{campaign.pk}/").content.decode()
    command = html.unescape(page.split('data-testid="command"><code>')[1].split("</code>")[0])
    words = shlex.split(command)
    assert words[:2] == ["python3", "lottery_verify.py"]
    again = _verify(*words[2:])
    assert again.returncode == 0 and _winner_lines(again.stdout) == expected
    # another public value, or the entries hash left out of the mix, gives another draw
    other = _verify(*[("00" if w == value else w) for w in words[2:]])
    assert _winner_lines(other.stdout) != expected
    rule_one = _verify(*words[2:-1], "1")
    assert words[-2] == "--rule" and _winner_lines(rule_one.stdout) != expected
    tampered = _verify(
        "--seed",
        draw.seed,
        "--commitment",
        "0" * 64,
        "--public-value",
        value,
        "--entries-hash",
        draw.entries_hash,
        "--entrants",
        ",".join(map(str, entrants)),
        "--prizes",
        "x:1",
    )
    assert tampered.returncode == 1 and "MISMATCH" in tampered.stdout
    missing = _verify(
        "--seed",
        draw.seed,
        "--commitment",
        draw.commitment,
        "--entries-hash",
        draw.entries_hash,
        "--entrants",
        ",".join(map(str, entrants)),
        "--prizes",
        "x:1",
    )
    assert missing.returncode == 1 and "MISSING" in missing.stdout


def test_the_draw_is_deterministic_and_depends_on_every_input():
    seed = "ab" * 32
    entrants = list(range(100, 140))
    prizes = [("A", 1), ("B", 3), ("C", 10)]
    first = lottery_verify.winners(seed, "x", entrants, prizes)
    assert first == lottery_verify.winners(seed, "x", list(reversed(entrants)), prizes)
    assert first != lottery_verify.winners(seed, "y", entrants, prizes)
    assert first != lottery_verify.winners("cd" * 32, "x", entrants, prizes)
    assert sorted(lottery_verify.shuffled(seed, "x", entrants)) == sorted(entrants)
    # rule 2 mixes the entrant list hash in: one more entrant reshuffles everyone, where under
    # rule 1 the same random numbers would drive the same swaps
    one_more = entrants + [999]
    assert (
        lottery_verify.shuffled(seed, "x", one_more, rule=1)[:5]
        != (lottery_verify.shuffled(seed, "x", one_more, rule=2)[:5])
    )
    assert first != lottery_verify.winners(seed, "x", entrants, prizes, rule=1)


def test_a_lottery_must_name_its_public_value_when_it_opens(org_a):
    actor = org_a.actor()
    group = community_services.community_create(actor=actor, name="命名抽奖群")
    now = timezone.now()
    fields = {
        "actor": actor,
        "name": "命名抽奖",
        "product_name": "抽奖",
        "starts_at": now,
        "ends_at": now + timedelta(days=1),
        "communities": [group],
        "prizes": [("奖", 1)],
        "public_source": SOURCE,
        "public_value_at": now + timedelta(days=1, hours=1),
        "draw_at": now + timedelta(days=1, hours=2),
    }
    for bad, field in (
        ({"public_source": "  "}, "public_source"),
        ({"public_source": "x" * 201}, "public_source"),
        ({"public_value_at": None}, "public_value_at"),
        ({"public_value_at": now + timedelta(days=1)}, "public_value_at"),  # at the close
        ({"draw_at": now + timedelta(days=1, minutes=30)}, "draw_at"),  # before publication
    ):
        with pytest.raises(ValidationError) as exc:
            lottery.lottery_create(**{**fields, **bad})
        assert field in exc.value.message_dict, (bad, exc.value.message_dict)
    campaign = lottery.lottery_create(**fields)
    draw = LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign)
    assert draw.public_source == SOURCE and draw.public_value_at == fields["public_value_at"]
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    page = Client().get(f"/lottery/{org_a.org.slug}/{campaign.pk}/").content.decode()
    assert SOURCE in page and draw.commitment in page and draw.seed not in page
    assert 'data-testid="why"' in page and 'data-testid="command"' not in page


def test_eligibility_requires_a_checkin_when_configured(org_a):
    actor = org_a.actor()
    group = community_services.community_create(actor=actor, name="打卡抽奖群")
    now = timezone.now()
    campaign = lottery.lottery_create(
        actor=actor,
        name="打卡抽奖",
        product_name="抽奖",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=30),
        public_source=SOURCE,
        public_value_at=now + timedelta(hours=1),
        draw_at=now + timedelta(hours=1),
        communities=[group],
        prizes=[("奖", 1)],
        require_checkin=True,
    )
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    (member,) = _buyers(org_a.org, group, 1)
    with pytest.raises(services.OrderRefused) as exc:
        lottery.lottery_enter(actor=actor, campaign=campaign, member=member)
    assert exc.value.code == "not_eligible"


def test_run_due_freezes_entries_at_the_close_and_never_draws_without_the_value(org_a, draw_setup):
    actor, group, campaign = draw_setup
    for m in _buyers(org_a.org, group, 3):
        lottery.lottery_enter(actor=actor, campaign=campaign, member=m)
    assert lottery.run_due(org_a.org, now=timezone.now()) == 0
    campaign.ends_at = timezone.now() - timedelta(minutes=1)
    campaign.save(update_fields=["ends_at"])
    assert lottery.run_due(org_a.org, now=timezone.now() + timedelta(hours=2)) == 1
    draw = LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign)
    assert draw.entries_frozen_at and draw.entries_hash and draw.drawn_at is None
    assert not LotteryWinner.objects.for_org(org_a.org).filter(campaign=campaign).exists()


def test_lottery_api(org_a):
    group = community_services.community_create(actor=org_a.actor(), name="API抽奖群")
    (member,) = _buyers(org_a.org, group, 1)
    client = org_a.api_client()
    now = timezone.now()
    body = {
        "kind": "lottery",
        "name": "API抽奖",
        "product_name": "抽奖",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "draw_at": (now + timedelta(hours=2)).isoformat(),
        "public_value_at": (now + timedelta(hours=2)).isoformat(),
        "public_source": SOURCE,
        "communities": [group.pk],
        "prizes": [{"name": "奖", "quantity": 2}],
    }
    created = client.post("/api/v1/campaigns/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    published = created.json()["lottery"]
    assert published["public_source"] == SOURCE and published["draw_rule"] == 2
    assert published["commitment"] and published["public_value"] == ""
    unnamed = {k: v for k, v in body.items() if k not in ("public_source", "public_value_at")}
    unnamed = client.post("/api/v1/campaigns/", unnamed, content_type="application/json")
    assert unnamed.status_code == 400
    assert set(unnamed.json()["error"]["fields"]) >= {"public_source", "public_value_at"}
    Campaign.objects.for_org(org_a.org).filter(pk=campaign_id).update(status="scheduled")
    entry = client.post(
        f"/api/v1/campaigns/{campaign_id}/entries/",
        {"member": member.pk},
        content_type="application/json",
    )
    assert entry.status_code == 201
    early = client.post(
        f"/api/v1/campaigns/{campaign_id}/draw/", {}, content_type="application/json"
    )
    assert early.status_code == 409  # entries are still open
    Campaign.objects.for_org(org_a.org).filter(pk=campaign_id).update(
        ends_at=now - timedelta(seconds=1)
    )
    LotteryDraw.objects.for_org(org_a.org).filter(campaign_id=campaign_id).update(
        public_value_at=now
    )
    blank = client.post(
        f"/api/v1/campaigns/{campaign_id}/draw/", {}, content_type="application/json"
    )
    assert blank.status_code == 409 and blank.json()["error"]["code"] == "conflict"
    assert SOURCE in blank.json()["error"]["message"]
    drawn = client.post(
        f"/api/v1/campaigns/{campaign_id}/draw/",
        {"public_value": "01 02"},
        content_type="application/json",
    )
    assert drawn.status_code == 200 and drawn.json()["winners"][0]["member"] == member.pk
    detail = client.get(f"/api/v1/campaigns/{campaign_id}/").json()
    assert detail["lottery"]["public_value"] == "01 02"


def test_live_page_draw_button(org_a, draw_setup):
    actor, group, campaign = draw_setup
    for m in _buyers(org_a.org, group, 2):
        lottery.lottery_enter(actor=actor, campaign=campaign, member=m)
    campaign.ends_at = timezone.now() - timedelta(seconds=1)
    campaign.save(update_fields=["ends_at"])
    client = org_a.client_for(org_a.owner)
    url = f"/o/{org_a.org.slug}/campaigns/{campaign.pk}/"
    page = client.get(url).content.decode()
    assert SOURCE in page and "/lottery/" in page
    assert 'data-testid="draw-waits"' in page and f"{url}draw/" not in page  # not published yet
    LotteryDraw.objects.for_org(org_a.org).filter(campaign=campaign).update(
        public_value_at=timezone.now()
    )
    page = client.get(url).content.decode()
    assert f"{url}draw/" in page
    refused = client.post(f"{url}draw/", {"public_value": ""}, follow=True)
    assert "26140" in refused.content.decode()  # the service's message, flashed
    assert LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign).drawn_at is None
    client.post(f"{url}draw/", {"public_value": "123"})
    assert LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign).public_value == "123"
    assert (
        'data-testid="winners"'
        in client.get(f"/o/{org_a.org.slug}/campaigns/{campaign.pk}/").content.decode()
    )


def test_builder_makes_a_lottery(org_a):
    group = community_services.community_create(actor=org_a.actor(), name="建抽奖群")
    now = timezone.now().astimezone(org_a.org.tzinfo)
    form = {
        "kind": "lottery",
        "name": "月底抽奖",
        "product_name": "抽奖",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "draw_at": (now + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "public_source": SOURCE,
        "public_value_at": (now + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "communities": [group.pk],
        "per_member_cap": "1",
        "payment_minutes": "15",
        "cost": "50",
        "prizes": "鱼油一瓶 : 1\n5元券：20",
    }
    client = org_a.client_for(org_a.owner)
    assert client.post(f"/o/{org_a.org.slug}/campaigns/new/", form).status_code == 302
    from campaigns.models import LotteryPrize

    campaign = Campaign.objects.for_org(org_a.org).get(name="月底抽奖")
    assert campaign.kind == "lottery" and campaign.stock_total == 21
    assert list(
        LotteryPrize.objects.for_org(org_a.org)
        .filter(campaign=campaign)
        .values_list("name", "quantity")
    ) == [("鱼油一瓶", 1), ("5元券", 20)]
    assert LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign).public_source == SOURCE
    bad = client.post(
        f"/o/{org_a.org.slug}/campaigns/new/", {**form, "name": "坏", "prizes": "没有数量"}
    )
    assert bad.status_code == 400
    unnamed = client.post(
        f"/o/{org_a.org.slug}/campaigns/new/", {**form, "name": "无名", "public_source": ""}
    )
    assert unnamed.status_code == 400
    assert not Campaign.objects.for_org(org_a.org).filter(name="无名").exists()


def test_more_than_one_prize_per_member_when_configured():
    seed, entrants = "ef" * 32, [1, 2, 3]
    one = lottery_verify.winners(seed, "", entrants, [("A", 5)])
    two = lottery_verify.winners(seed, "", entrants, [("A", 5)], per_member=2)
    assert len(one) == 3 and len(two) == 5
    assert max(sum(1 for w in two if w[0] == e) for e in entrants) == 2
