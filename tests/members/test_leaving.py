"""The leaving survey (seed 002 §5.3): a member who leaves is asked why, privately, with a
personal link; their answer becomes the leave's reason, counted per group and month."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from integrations.models import Action
from members import leaving as leavings
from members import privacy
from members.models import Leaving, Member, Membership, MembershipChange
from tenancy.actors import Actor

from .conftest import T0, ev

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://\S+/m/org-a/l/([\w-]+)/")
NOW = T0 + timedelta(hours=2)


def _member(org, user="u1"):
    return Member.objects.for_org(org).get(identities__external_user_id=user)


@pytest.mark.time_machine(NOW, tick=False)
def test_leaving_sends_a_private_survey_link_that_opens_after_leaving(org_a, group, post):
    post([ev("member.joined"), ev("member.left", at=30)])
    leaving = Leaving.objects.for_org(org_a.org).get()
    assert leaving.community == group
    assert leaving.left_at == T0 + timedelta(minutes=30)
    assert (leaving.reason, leaving.source, leaving.asked_at) == ("", "", NOW)
    notify = Action.objects.for_org(org_a.org).get(kind="member.notify")
    payload = notify.payload
    assert payload["user_external_id"] == "u1"
    assert payload["leaving_id"] == leaving.pk
    assert payload["text"].startswith("你已退出「健康交流1群」。方便告诉我们原因吗？")
    token = LINK.search(payload["text"]).group(1)
    # the member is no longer in the group, and the link still signs them in to the survey
    assert Membership.objects.for_org(org_a.org).get().status == "left"
    client = Client()
    opened = client.get(f"/m/org-a/l/{token}/")
    assert opened["Location"] == f"/m/org-a/bye/{leaving.pk}/"
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert "你为什么退出「健康交流1群」？" in page.content.decode()
    answered = client.post(opened["Location"], {"reason": "too_many_ads", "text": " 太多  广告 "})
    assert answered.status_code == 302
    leaving.refresh_from_db()
    assert (leaving.reason, leaving.source, leaving.text) == ("too_many_ads", "member", "太多 广告")


@pytest.mark.time_machine(NOW, tick=False)
def test_a_reason_from_the_bot_is_recorded_and_nobody_is_asked(org_a, group, post):
    post([ev("member.joined"), ev("member.left", at=30, reason="no_benefits")])
    leaving = Leaving.objects.for_org(org_a.org).get()
    assert (leaving.reason, leaving.source, leaving.asked_at) == ("no_benefits", "bot", None)
    assert not Action.objects.for_org(org_a.org).filter(kind="member.notify").exists()


@pytest.mark.time_machine(NOW, tick=False)
def test_each_leave_is_its_own_leaving_and_resending_changes_nothing(org_a, group, post):
    events = [
        ev("member.joined"),
        ev("member.left", at=10),
        ev("member.joined", at=20),
        ev("member.left", at=30),
    ]
    post(events)
    post(events)
    assert Leaving.objects.for_org(org_a.org).count() == 2
    assert Action.objects.for_org(org_a.org).filter(kind="member.notify").count() == 2


@pytest.mark.time_machine(NOW, tick=False)
def test_the_answer_becomes_the_leave_s_reason_and_a_new_answer_replaces_it(org_a, group, post):
    post([ev("member.joined"), ev("member.left", at=30)])
    leaving = Leaving.objects.for_org(org_a.org).get()
    member = _member(org_a.org)
    actor = Actor.for_member(member)
    leavings.leaving_answer(actor=actor, leaving=leaving, reason="content_not_useful")
    leavings.leaving_answer(actor=actor, leaving=leaving, reason="other", text="搬家了")
    leaving.refresh_from_db()
    assert (leaving.reason, leaving.text) == ("other", "搬家了")
    change = MembershipChange.objects.for_org(org_a.org).get(to_status="left")
    assert change.reason == "other"  # what the metric rollups count as the churn reason
    assert Membership.objects.for_org(org_a.org).get().churn_reason == "other"
    assert Leaving.objects.for_org(org_a.org).count() == 1


@pytest.mark.time_machine(NOW, tick=False)
def test_an_answer_after_a_rejoin_leaves_the_current_membership_alone(org_a, group, post):
    post([ev("member.joined"), ev("member.left", at=10), ev("member.joined", at=20)])
    leaving = Leaving.objects.for_org(org_a.org).get()
    actor = Actor.for_member(_member(org_a.org))
    leavings.leaving_answer(actor=actor, leaving=leaving, reason="too_many_ads")
    membership = Membership.objects.for_org(org_a.org).get()
    assert (membership.status, membership.churn_reason) != ("left", "too_many_ads")
    assert membership.churn_reason == ""
    assert MembershipChange.objects.for_org(org_a.org).get(to_status="left").reason == (
        "too_many_ads"
    )


@pytest.mark.time_machine(NOW, tick=False)
def test_bad_answers_and_other_people_are_refused(org_a, group, post):
    post([ev("member.joined"), ev("member.joined", user="u2"), ev("member.left", at=30)])
    leaving = Leaving.objects.for_org(org_a.org).get()
    owner = Actor.for_member(_member(org_a.org))
    with pytest.raises(ValidationError) as bad:
        leavings.leaving_answer(actor=owner, leaving=leaving, reason="boring")
    assert set(bad.value.message_dict) == {"reason"}
    with pytest.raises(ValidationError) as long:
        leavings.leaving_answer(actor=owner, leaving=leaving, reason="other", text="很" * 301)
    assert set(long.value.message_dict) == {"text"}
    with pytest.raises(PermissionDenied):
        leavings.leaving_answer(
            actor=Actor.for_member(_member(org_a.org, "u2")), leaving=leaving, reason="other"
        )
    leaving.refresh_from_db()
    assert leaving.answered_at is None


def test_the_survey_closes_after_thirty_days(org_a, group, post, time_machine):
    time_machine.move_to(NOW, tick=False)
    post([ev("member.joined"), ev("member.left", at=30)])
    leaving = Leaving.objects.for_org(org_a.org).get()
    time_machine.move_to(leaving.left_at + timedelta(days=30, minutes=1), tick=False)
    with pytest.raises(ValidationError):
        leavings.leaving_answer(
            actor=Actor.for_member(_member(org_a.org)), leaving=leaving, reason="other"
        )


@pytest.mark.time_machine(NOW, tick=False)
def test_a_blocked_member_who_leaves_is_not_sent_a_link(org_a, group, post):
    from members.models import Block

    post([ev("member.joined")])
    Block.objects.create(
        organization=org_a.org, member=_member(org_a.org), reason="x", actor_label="t"
    )
    post([ev("member.left", at=30)])
    leaving = Leaving.objects.for_org(org_a.org).get()
    assert leaving.asked_at is None
    assert not Action.objects.for_org(org_a.org).filter(kind="member.notify").exists()


def test_the_trend_counts_each_cause_per_local_month(org_a, group, post, time_machine):
    time_machine.move_to(NOW, tick=False)
    events = [ev("member.joined", user=f"u{i}") for i in range(6)]
    events += [ev("member.left", user="u0", at=1)]
    events += [ev("member.left", user="u1", at=2, reason="too_many_ads")]
    events += [ev("member.left", user="u2", at=3, reason="too_many_ads")]
    events += [ev("member.left", user="u3", at=4)]
    post(events)
    answer = Leaving.objects.for_org(org_a.org).get(member=_member(org_a.org, "u0"))
    leavings.leaving_answer(
        actor=Actor.for_member(_member(org_a.org, "u0")),
        leaving=answer,
        reason="content_not_useful",
        text="都是广告链接",
    )
    # a leave five months ago, and one seven months ago (outside the window)
    old = Leaving.objects.for_org(org_a.org).get(member=_member(org_a.org, "u3"))
    for user, days in (("u4", 150), ("u5", 210)):
        Leaving.objects.create(
            organization=org_a.org,
            membership=Membership.objects.for_org(org_a.org).get(identity__external_user_id=user),
            community=group,
            member=_member(org_a.org, user),
            left_at=NOW - timedelta(days=days),
            reason="no_benefits",
            source="bot",
        )
    found = leavings.trend(org_a.org, group, now=NOW)
    assert len(found["months"]) == 6
    assert found["months"][-1].month == 11
    rows = {row["reason"]: row for row in found["rows"]}
    assert rows["too_many_ads"]["counts"] == [0, 0, 0, 0, 0, 2]
    assert rows["content_not_useful"]["counts"] == [0, 0, 0, 0, 0, 1]
    assert rows["no_benefits"]["counts"] == [1, 0, 0, 0, 0, 0]  # June; May is outside
    assert rows["unknown"]["total"] == 1  # u3 has not answered
    assert found["top"]["reason"] == "too_many_ads"
    assert (found["asked"], found["answered"]) == (2, 1)
    assert [r["text"] for r in found["recent"]] == ["都是广告链接"]
    assert rows["content_not_useful"]["fix_url_name"] == "calendar"
    assert rows["too_many_ads"]["fix_url_name"] == "community-rules"
    assert rows["no_benefits"]["fix_url_name"] == "campaigns"
    assert old.reason == ""


@pytest.mark.time_machine(NOW, tick=False)
def test_the_group_page_shows_the_causes_and_the_fix_for_each(org_a, group, post):
    post([ev("member.joined"), ev("member.left", at=30, reason="too_many_ads")])
    response = org_a.client_for(org_a.owner).get(f"/o/org-a/communities/{group.pk}/")
    html = response.content.decode()
    assert 'data-testid="leaving-too_many_ads-total">1<' in html
    assert f'href="/o/org-a/communities/{group.pk}/rules/"' in html
    assert 'href="/o/org-a/calendar/"' in html
    assert 'href="/o/org-a/campaigns/"' in html


@pytest.mark.time_machine(NOW, tick=False)
def test_export_has_the_leavings_and_erasure_removes_the_member_s_words(org_a, group, post):
    post([ev("member.joined"), ev("member.left", at=30)])
    member = _member(org_a.org)
    leaving = Leaving.objects.for_org(org_a.org).get()
    leavings.leaving_answer(
        actor=Actor.for_member(member), leaving=leaving, reason="other", text="我叫王小明"
    )
    data = privacy.member_export(actor=org_a.actor(), member=member)
    assert [row["text"] for row in data["leavings"]] == ["我叫王小明"]
    privacy.member_erase(actor=org_a.actor(), member=member)
    leaving.refresh_from_db()
    assert (leaving.reason, leaving.text) == ("other", "")


@pytest.mark.time_machine(NOW, tick=False)
def test_leaves_cost_the_same_queries_however_many(
    org_a, group, post, django_assert_max_num_queries
):
    post([ev("member.joined", user=f"u{i}") for i in range(60)])
    with django_assert_max_num_queries(80) as few:
        post([ev("member.left", user=f"u{i}", at=1) for i in range(2)])
    with django_assert_max_num_queries(80) as many:
        post([ev("member.left", user=f"u{i}", at=2) for i in range(2, 60)])
    assert len(many.captured_queries) <= len(few.captured_queries)
    assert Action.objects.for_org(org_a.org).filter(kind="member.notify").count() == 60


@pytest.mark.time_machine(NOW, tick=False)
def test_a_group_may_turn_the_survey_off_and_still_counts_its_leaves(org_a, group, post):
    from communities import services as community_services

    community_services.rules_update(actor=org_a.actor(), community=group, ask_leavers_why=False)
    post([ev("member.joined"), ev("member.left", at=30)])
    leaving = Leaving.objects.for_org(org_a.org).get()
    assert leaving.asked_at is None
    assert not Action.objects.for_org(org_a.org).filter(kind="member.notify").exists()


@pytest.mark.time_machine(NOW, tick=False)
def test_leaving_two_groups_at_once_brings_a_link_to_each_survey(org_a, group, post):
    events = [ev("member.joined"), ev("member.joined", community="g2")]
    events += [ev("member.left", at=5), ev("member.left", community="g2", at=6)]
    post(events)
    targets = []
    notices = Action.objects.for_org(org_a.org).filter(kind="member.notify").order_by("pk")
    for notify in [n for n in notices if n.payload.get("leaving_id")]:  # not the entry notice
        token = LINK.search(notify.payload["text"]).group(1)
        targets.append((Client().get(f"/m/org-a/l/{token}/")["Location"], notify.payload))
    leavings_by_group = {
        row.community.external_id: row.pk
        for row in Leaving.objects.for_org(org_a.org).select_related("community")
    }
    assert [location for location, _payload in targets] == [
        f"/m/org-a/bye/{leavings_by_group['g1']}/",
        f"/m/org-a/bye/{leavings_by_group['g2']}/",
    ]
    assert [p["leaving_id"] for _l, p in targets] == [
        leavings_by_group["g1"],
        leavings_by_group["g2"],
    ]
