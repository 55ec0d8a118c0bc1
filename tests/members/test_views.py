from django.urls import reverse

from communities import services as community_services
from integrations.models import Action
from members.models import Block, Membership, PointsEntry, Warning

from .conftest import ev


def _url(name, tenant, **kwargs):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kwargs})


def _membership(org, user):
    return Membership.objects.for_org(org).get(identity__external_user_id=user)


def test_deputy_works_the_newcomers_list_in_their_group_only(org_a, group, post):
    other = community_services.community_create(
        actor=org_a.actor(), name="别的群", external_id="g9"
    )
    community_services.staff_assign(
        actor=org_a.actor(), community=group, user=org_a.deputy, role="deputy"
    )
    post(
        [
            ev("member.joined", user="new1", display_name="新人甲"),
            ev("member.joined", user="new2", community="g9", display_name="新人乙"),
        ]
    )
    client = org_a.client_for(org_a.deputy)
    page = client.get(_url("newcomers", org_a)).content.decode()
    assert "新人甲" in page and "新人乙" not in page
    mine = _membership(org_a.org, "new1")
    response = client.post(
        _url("membership-warn", org_a, pk=mine.pk),
        {"reason": "广告", "next": "/o/org-a/newcomers/"},
    )
    assert response.status_code == 302 and response.url == "/o/org-a/newcomers/"
    assert Warning.objects.for_org(org_a.org).filter(membership=mine, reason="manual").exists()
    theirs = _membership(org_a.org, "new2")
    assert (
        client.post(_url("membership-warn", org_a, pk=theirs.pk), {"reason": "x"}).status_code
        == 404
    )
    assert other.pk  # the other group exists but is invisible to the deputy


def test_warn_remove_reinstate_and_history(org_a, group, post):
    post(
        [ev("member.joined", user="u1", display_name="小王"), ev("message.posted", user="u1", at=1)]
    )
    membership = _membership(org_a.org, "u1")
    client = org_a.client_for(org_a.owner)
    assert (
        client.post(_url("membership-warn", org_a, pk=membership.pk), {"reason": ""}).status_code
        == 302
    )
    assert not Warning.objects.for_org(org_a.org).exists()  # no reason, no warning
    client.post(
        _url("membership-remove", org_a, pk=membership.pk), {"reason": "发广告", "block": "on"}
    )
    membership.refresh_from_db()
    assert membership.status == "removed"
    assert (
        Block.objects.for_org(org_a.org).filter(member=membership.member, lifted_at=None).exists()
    )
    client.post(_url("membership-reinstate", org_a, pk=membership.pk))
    membership.refresh_from_db()
    assert membership.status == "active"
    assert Action.objects.for_org(org_a.org).filter(kind="member.invite_back").exists()
    page = client.get(_url("member-detail", org_a, pk=membership.member_id)).content.decode()
    assert "已移出" in page and "发广告" in page  # the history, in the org's language


def test_revoke_warning_and_lift_block(org_a, group, post):
    post([ev("member.joined"), ev("message.posted", at=1, has_link=True)])
    membership = _membership(org_a.org, "u1")
    warning = Warning.objects.for_org(org_a.org).get()
    client = org_a.client_for(org_a.owner)
    client.post(_url("warning-revoke", org_a, pk=warning.pk))
    membership.refresh_from_db()
    assert membership.status == "active"
    block = Block.objects.create(
        organization=org_a.org, member=membership.member, reason="x", actor_label="t"
    )
    assert "x" in client.get(_url("blocks", org_a)).content.decode()
    client.post(_url("block-lift", org_a, pk=block.pk))
    block.refresh_from_db()
    assert block.lifted_at


def test_points_adjust_never_below_zero(org_a, group, post):
    post([ev("member.joined")])
    membership = _membership(org_a.org, "u1")
    client = org_a.client_for(org_a.owner)
    url = _url("member-detail", org_a, pk=membership.member_id)
    client.post(url, {"delta": 30, "reason": "活动奖励"})
    client.post(url, {"delta": -100, "reason": "扣分"})
    membership.member.refresh_from_db()
    assert membership.member.points_balance == 30
    assert sum(PointsEntry.objects.for_org(org_a.org).values_list("delta", flat=True)) == 30


def test_member_list_search_and_dormant_page(org_a, group, post, django_assert_max_num_queries):
    post([ev("member.joined", user=f"u{i}", display_name=f"会员{i}") for i in range(30)])
    client = org_a.client_for(org_a.owner)
    with django_assert_max_num_queries(15):
        page = client.get(_url("members", org_a)).content.decode()
    assert "会员29" in page
    assert "会员7" in client.get(_url("members", org_a) + "?q=会员7").content.decode()
    Membership.objects.for_org(org_a.org).filter(identity__external_user_id="u3").update(
        status="dormant"
    )
    dormant = client.get(_url("dormant", org_a)).content.decode()
    assert "会员3" in dormant
    response = client.post(_url("dormant", org_a), {"ids": [_membership(org_a.org, "u3").pk]})
    assert response.status_code == 302
    assert Action.objects.for_org(org_a.org).filter(kind="member.remind").count() == 1
    assert client.get(_url("actions", org_a)).status_code == 200


def test_weekly_leaderboard_on_the_group_page(org_a, group, post):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()

    def recent(type_, user, minutes, **extra):
        event = ev(type_, user=user, **extra)
        event["occurred_at"] = (now - timedelta(minutes=minutes)).isoformat()
        return event

    post(
        [recent("message.posted", "talker", i) for i in range(1, 4)]
        + [
            recent("member.checked_in", "checker", 5, display_name="打卡王"),
            recent("content.shared", "checker", 6),
        ]
    )
    from members.selectors import weekly_leaderboard

    board = weekly_leaderboard(org_a.org, group)
    assert [row["score"] for row in board] == [5, 3]
    assert board[0]["name"] == "打卡王"
    page = (
        org_a.client_for(org_a.owner)
        .get(_url("community-detail", org_a, pk=group.pk))
        .content.decode()
    )
    assert "打卡王" in page


def test_linking_identities_merges_people_and_keeps_history(org_a, group, post):
    from members import services as member_services
    from members.models import IdentityLink, Member, MemberIdentity

    post(
        [
            ev("member.joined", user="wx-1", display_name="小王"),
            ev("order.placed", user="tg-1", platform="telegram", order_id="o1", amount=50, at=1),
        ]
    )
    wechat = Member.objects.for_org(org_a.org).get(identities__external_user_id="wx-1")
    telegram_identity = MemberIdentity.objects.for_org(org_a.org).get(external_user_id="tg-1")
    old = telegram_identity.member
    old_points = old.points_balance
    client = org_a.client_for(org_a.owner)
    url = _url("member-detail", org_a, pk=wechat.pk)
    response = client.post(url, {"link_platform": "telegram", "link_user": "tg-1"})
    assert response.status_code == 302
    wechat.refresh_from_db()
    old.refresh_from_db()
    assert old.merged_into_id == wechat.pk and wechat.points_balance == old_points > 0
    assert wechat.orders.count() == 1
    assert IdentityLink.objects.for_org(org_a.org).filter(action="link").exists()
    assert "tg-1" in client.get(url).content.decode()
    member_services.identity_unlink(
        actor=org_a.actor(),
        identity=MemberIdentity.objects.for_org(org_a.org).get(external_user_id="tg-1"),
    )
    assert IdentityLink.objects.for_org(org_a.org).filter(action="unlink").exists()


def test_dashboard_csv_export_and_import_with_progress(org_a, group, post, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from members import csv_io
    from members.models import ImportJob

    post([ev("member.joined", user="wx-a", display_name="小红")])
    client = org_a.client_for(org_a.owner)
    export = client.get(_url("members-export", org_a))
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "wx-a" in body and "小红" in body
    monkeypatch.setattr(csv_io, "_enqueue", lambda org_id, job_id: None)  # no worker in tests
    upload = SimpleUploadedFile(
        "m.csv", "platform,external_user_id,display_name\nwechat,wx-b,小蓝\nnope,x,y\n".encode()
    )
    response = client.post(_url("members-import", org_a), {"file": upload})
    job = ImportJob.objects.for_org(org_a.org).get()
    assert response.status_code == 302 and response.url.endswith(f"/members/import/{job.pk}/")
    csv_io.run_import(job)
    page = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "100%" in page and "hx-trigger" not in page  # done: the page stops polling
    assert client.post(_url("members-import", org_a), {}).status_code == 400
    bad = SimpleUploadedFile("m.csv", b"\xff\xfe not utf8")
    assert client.post(_url("members-import", org_a), {"file": bad}).status_code == 400


def test_action_outcome_shows_in_the_member_history(org_a, group, post):
    from integrations import delivery

    post([ev("member.joined", user="u1", display_name="小王")])
    welcome = Action.objects.for_org(org_a.org).get(kind="member.welcome")
    delivery.lease_pending(actor=org_a.actor())
    delivery.acknowledge(
        actor=org_a.actor(), action=welcome, status="failed", detail="机器人不在群里"
    )
    membership = _membership(org_a.org, "u1")
    page = (
        org_a.client_for(org_a.owner)
        .get(_url("member-detail", org_a, pk=membership.member_id))
        .content.decode()
    )
    assert "机器人不在群里" in page
