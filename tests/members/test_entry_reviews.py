"""Entry rules that ask staff to review: a real queue, resolved through a service with audit
(the member stays and loses the flag, or is removed politely), shown on the member's page."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from communities import services as community_services
from integrations.models import Action
from members import services
from members.models import EntryReview, Membership
from tenancy.models import AuditLogEntry

from ..factories import StaffAssignmentFactory
from .conftest import ev


@pytest.fixture
def vip_group(org_a):
    actor = org_a.actor()
    tier = community_services.tier_save(actor=actor, name="金卡", rank=2, min_spend=Decimal("500"))
    return community_services.community_create(
        actor=actor, name="金卡会员群", external_id="vip", kind="vip", required_tier=tier
    )


def _membership(org):
    return Membership.objects.for_org(org).get(identity__external_user_id="u1")


def _reviews(org):
    return list(EntryReview.objects.for_org(org).order_by("pk"))


def test_notify_and_review_opens_one_review_however_often_they_join(org_a, vip_group, post):
    post([ev("member.joined", community="vip", display_name="小王")])
    [review] = _reviews(org_a.org)
    assert (review.status, review.rule, review.community) == ("open", "below_tier", vip_group)
    assert review.detail == "金卡 及以上会员专属"
    post([ev("member.left", community="vip", at=1), ev("member.joined", community="vip", at=2)])
    assert len(_reviews(org_a.org)) == 1


def test_notify_only_asks_nobody(org_a, vip_group, post):
    community_services.rules_update(
        actor=org_a.actor(), community=vip_group, below_tier_action="notify"
    )
    post([ev("member.joined", community="vip")])
    assert _reviews(org_a.org) == []


def test_review_only_opens_a_review(org_a, vip_group, post):
    community_services.rules_update(
        actor=org_a.actor(), community=vip_group, below_tier_action="review"
    )
    post([ev("member.joined", community="vip")])
    assert [r.status for r in _reviews(org_a.org)] == ["open"]


def test_approve_keeps_the_member_and_drops_the_flag(org_a, vip_group, post):
    post([ev("member.joined", community="vip")])
    [review] = _reviews(org_a.org)
    services.entry_review_resolve(
        actor=org_a.actor(), review=review, decision="approve", note="老客户，特批"
    )
    review.refresh_from_db()
    membership = _membership(org_a.org)
    assert (review.status, review.note) == ("approved", "老客户，特批")
    assert review.resolved_at is not None and review.resolved_by
    assert "below_tier" not in membership.flags
    assert membership.status == "onboarding"
    entry = AuditLogEntry.objects.for_org(org_a.org).get(action="member.entry_review_approved")
    assert entry.object_id == str(membership.pk)
    with pytest.raises(ValidationError):  # resolved once only
        services.entry_review_resolve(actor=org_a.actor(), review=review, decision="remove")


def test_remove_is_polite_and_recorded(org_a, vip_group, post):
    post([ev("member.joined", community="vip", display_name="小王")])
    [review] = _reviews(org_a.org)
    services.entry_review_resolve(actor=org_a.actor(), review=review, decision="remove")
    review.refresh_from_db()
    assert review.status == "removed"
    assert _membership(org_a.org).status == "removed"
    [removal] = Action.objects.for_org(org_a.org).filter(kind="member.remove")
    assert removal.payload["reason"] == "below_tier"
    assert removal.payload["announce"] == (
        "小王 暂不符合本群的入群条件（金卡 及以上会员专属），已请出群，达到条件后欢迎再来。"
    )
    assert (
        AuditLogEntry.objects.for_org(org_a.org)
        .filter(action="member.entry_review_removed")
        .exists()
    )


def test_a_member_who_left_closes_the_review(org_a, vip_group, post):
    post([ev("member.joined", community="vip"), ev("member.left", community="vip", at=1)])
    [review] = _reviews(org_a.org)
    services.entry_review_resolve(actor=org_a.actor(), review=review, decision="remove")
    review.refresh_from_db()
    assert review.status == "closed"
    assert not Action.objects.for_org(org_a.org).filter(kind="member.remove").exists()


def test_a_bad_decision_is_a_clear_error(org_a, vip_group, post):
    post([ev("member.joined", community="vip")])
    [review] = _reviews(org_a.org)
    with pytest.raises(ValidationError) as exc:
        services.entry_review_resolve(actor=org_a.actor(), review=review, decision="maybe")
    assert exc.value.messages == ["请选择让成员留下还是移出。"]


def test_only_staff_who_may_remove_in_that_group_resolve(org_a, vip_group, post):
    post([ev("member.joined", community="vip")])
    [review] = _reviews(org_a.org)
    with pytest.raises(PermissionDenied):
        services.entry_review_resolve(
            actor=org_a.actor(org_a.deputy), review=review, decision="approve"
        )
    StaffAssignmentFactory(
        organization=org_a.org, community=vip_group, user=org_a.deputy, role="deputy"
    )
    services.entry_review_resolve(
        actor=org_a.actor(org_a.deputy), review=review, decision="approve"
    )


def test_the_queue_and_the_member_page(org_a, vip_group, post):
    post([ev("member.joined", community="vip", display_name="小王")])
    [review] = _reviews(org_a.org)
    client = org_a.client_for(org_a.owner)
    queue = client.get(reverse("entry-reviews", kwargs={"org_slug": org_a.org.slug}))
    assert queue.status_code == 200
    body = queue.content.decode()
    assert "小王" in body and "未达到本群准入等级" in body
    member_page = client.get(
        reverse(
            "member-detail",
            kwargs={"org_slug": org_a.org.slug, "pk": _membership(org_a.org).member_id},
        )
    )
    assert f'data-testid="entry-review-{review.pk}"' in member_page.content.decode()
    url = reverse("entry-review-resolve", kwargs={"org_slug": org_a.org.slug, "pk": review.pk})
    response = client.post(url, {"decision": "approve"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == "approved"
    resolved = client.get(
        reverse("entry-reviews", kwargs={"org_slug": org_a.org.slug}) + "?status=resolved"
    )
    assert f'data-testid="entry-review-{review.pk}"' in resolved.content.decode()
    waiting = client.get(reverse("entry-reviews", kwargs={"org_slug": org_a.org.slug}))
    assert f'data-testid="entry-review-{review.pk}"' not in waiting.content.decode()
