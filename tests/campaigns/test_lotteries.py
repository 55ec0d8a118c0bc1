import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import lottery, lottery_verify, services
from campaigns.models import LotteryDraw, LotteryWinner
from communities import services as community_services
from integrations.models import Action

from .test_flash_sales import _buyers

ROOT = Path(__file__).resolve().parents[2]


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
        draw_at=now + timedelta(minutes=31),
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
    page = (
        org_a.client.get(f"/lottery/{org_a.org.slug}/{campaign.pk}/")
        if hasattr(org_a, "client")
        else None
    )
    from django.test import Client

    page = Client().get(f"/lottery/{org_a.org.slug}/{campaign.pk}/").content.decode()
    assert draw.commitment in page and draw.seed not in page


def test_entries_draw_and_independent_verification(org_a, draw_setup):
    actor, group, campaign = draw_setup
    members = _buyers(org_a.org, group, 8)
    for m in members:
        lottery.lottery_enter(actor=actor, campaign=campaign, member=m)
    lottery.lottery_enter(actor=actor, campaign=campaign, member=members[0])  # twice: one entry
    with pytest.raises(ValidationError):
        lottery.lottery_draw(actor=actor, campaign=campaign)  # entries still open
    campaign.ends_at = timezone.now() - timedelta(seconds=1)
    campaign.save(update_fields=["ends_at"])
    with pytest.raises(services.OrderRefused):
        lottery.lottery_enter(
            actor=actor, campaign=campaign, member=_buyers(org_a.org, group, 1, prefix="late")[0]
        )
    winners = lottery.lottery_draw(actor=actor, campaign=campaign, public_value="2026112101")
    assert len(winners) == 8  # 13 prizes, 8 entrants: everyone wins something, each once
    assert len({w.member_id for w in winners}) == 8
    assert [w.prize.name for w in winners][:3] == [
        "一等奖 鱼油一瓶",
        "二等奖 试用装",
        "二等奖 试用装",
    ]
    assert Action.objects.for_org(org_a.org).filter(kind="member.notify").count() == 8
    with pytest.raises(ValidationError):
        lottery.lottery_draw(actor=actor, campaign=campaign)  # once only
    draw = LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign)
    entrants = sorted(m.pk for m in members)
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            str(ROOT / "campaigns" / "lottery_verify.py"),
            "--seed",
            draw.seed,
            "--commitment",
            draw.commitment,
            "--public-value",
            "2026112101",
            "--entries-hash",
            draw.entries_hash,
            "--entrants",
            ",".join(map(str, entrants)),
            "--prizes",
            "一等奖 鱼油一瓶:1,二等奖 试用装:2,参与奖 5元券:10",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    stored = LotteryWinner.objects.for_org(org_a.org).filter(campaign=campaign).order_by("position")
    assert lines == [f"{w.position + 1}. entrant {w.member_id}: {w.prize.name}" for w in stored]
    tampered = subprocess.run(
        [
            sys.executable,
            "-I",
            str(ROOT / "campaigns" / "lottery_verify.py"),
            "--seed",
            draw.seed,
            "--commitment",
            "0" * 64,
            "--entries-hash",
            draw.entries_hash,
            "--entrants",
            ",".join(map(str, entrants)),
            "--prizes",
            "x:1",
        ],
        capture_output=True,
        text=True,
    )
    assert tampered.returncode == 1 and "MISMATCH" in tampered.stdout


def test_the_draw_is_deterministic_and_depends_on_every_input():
    seed = "ab" * 32
    entrants = list(range(100, 140))
    prizes = [("A", 1), ("B", 3), ("C", 10)]
    first = lottery_verify.winners(seed, "x", entrants, prizes)
    assert first == lottery_verify.winners(seed, "x", list(reversed(entrants)), prizes)
    assert first != lottery_verify.winners(seed, "y", entrants, prizes)
    assert first != lottery_verify.winners("cd" * 32, "x", entrants, prizes)
    assert sorted(lottery_verify.shuffled(seed, "x", entrants)) == sorted(entrants)


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


def test_run_due_freezes_and_draws_on_time(org_a, draw_setup):
    actor, group, campaign = draw_setup
    for m in _buyers(org_a.org, group, 3):
        lottery.lottery_enter(actor=actor, campaign=campaign, member=m)
    assert lottery.run_due(org_a.org, actor, now=timezone.now()) == 0
    assert (
        lottery.run_due(org_a.org, actor, now=timezone.now() + timedelta(minutes=32)) == 0
    )  # campaign still open in DB time
    campaign.ends_at = timezone.now() - timedelta(minutes=1)
    campaign.save(update_fields=["ends_at"])
    draw = LotteryDraw.objects.for_org(org_a.org).get(campaign=campaign)
    draw.draw_at = timezone.now() - timedelta(seconds=1)
    draw.save(update_fields=["draw_at"])
    assert lottery.run_due(org_a.org, actor) == 1
    assert LotteryWinner.objects.for_org(org_a.org).filter(campaign=campaign).count() == 3


def test_lottery_api(org_a):
    group = community_services.community_create(actor=org_a.actor(), name="API抽奖群")
    (member,) = _buyers(org_a.org, group, 1)
    client = org_a.api_client()
    now = timezone.now()
    created = client.post(
        "/api/v1/campaigns/",
        {
            "kind": "lottery",
            "name": "API抽奖",
            "product_name": "抽奖",
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "draw_at": (now + timedelta(hours=2)).isoformat(),
            "communities": [group.pk],
            "prizes": [{"name": "奖", "quantity": 2}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    from campaigns.models import Campaign

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


def test_live_page_draw_button(org_a, draw_setup):
    actor, group, campaign = draw_setup
    for m in _buyers(org_a.org, group, 2):
        lottery.lottery_enter(actor=actor, campaign=campaign, member=m)
    campaign.ends_at = timezone.now() - timedelta(seconds=1)
    campaign.save(update_fields=["ends_at"])
    client = org_a.client_for(org_a.owner)
    page = client.get(f"/o/{org_a.org.slug}/campaigns/{campaign.pk}/").content.decode()
    assert "/draw/" in page and "/lottery/" in page
    client.post(f"/o/{org_a.org.slug}/campaigns/{campaign.pk}/draw/", {"public_value": "123"})
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
        "communities": [group.pk],
        "per_member_cap": "1",
        "payment_minutes": "15",
        "cost": "50",
        "prizes": "鱼油一瓶 : 1\n5元券：20",
    }
    client = org_a.client_for(org_a.owner)
    assert client.post(f"/o/{org_a.org.slug}/campaigns/new/", form).status_code == 302
    from campaigns.models import Campaign, LotteryPrize

    campaign = Campaign.objects.for_org(org_a.org).get(name="月底抽奖")
    assert campaign.kind == "lottery" and campaign.stock_total == 21
    assert list(
        LotteryPrize.objects.for_org(org_a.org)
        .filter(campaign=campaign)
        .values_list("name", "quantity")
    ) == [("鱼油一瓶", 1), ("5元券", 20)]
    bad = client.post(
        f"/o/{org_a.org.slug}/campaigns/new/", {**form, "name": "坏", "prizes": "没有数量"}
    )
    assert bad.status_code == 400


def test_more_than_one_prize_per_member_when_configured():
    seed, entrants = "ef" * 32, [1, 2, 3]
    one = lottery_verify.winners(seed, "", entrants, [("A", 5)])
    two = lottery_verify.winners(seed, "", entrants, [("A", 5)], per_member=2)
    assert len(one) == 3 and len(two) == 5
    assert max(sum(1 for w in two if w[0] == e) for e in entrants) == 2
