"""After-sales follow-ups: one task per (rule, order), made by a job that selects due work."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from care import followups
from care.models import Case, FollowUpTask
from care.tasks import make_follow_ups
from integrations.models import Action
from tests.factories import FollowUpRuleFactory, MemberIdentityFactory, OrderFactory

from .conftest import ev

HOUR = timezone.timedelta(hours=1)


@pytest.fixture
def buyer(org_a, group):
    identity = MemberIdentityFactory(organization=org_a.org, external_user_id="buyer-1")
    return identity.member


def _order(org_a, buyer, group, **kwargs):
    defaults = {"status": "paid", "paid_at": timezone.now() - 3 * HOUR}
    return OrderFactory(
        organization=org_a.org,
        member=buyer,
        community=group,
        items=[{"name": "深海鱼油"}],
        **{**defaults, **kwargs},
    )


def test_bot_rule_sends_a_message_once(org_a, group, buyer):
    rule = FollowUpRuleFactory(
        organization=org_a.org,
        channel="bot",
        delay_hours=1,
        message="@{name} 你买的{items}已经发货了，订单{order}",
    )
    order = _order(org_a, buyer, group)
    _order(org_a, buyer, group, paid_at=timezone.now())  # not due yet
    assert followups.make_follow_ups(org_a.org) == 1
    assert followups.make_follow_ups(org_a.org) == 0  # idempotent
    task = FollowUpTask.objects.for_org(org_a.org).get()
    assert (task.rule, task.order, task.status) == (rule, order, "sent")
    action = Action.objects.for_org(org_a.org).get(pk=task.action_id)
    assert action.kind == "member.notify"
    assert action.payload["user_external_id"] == "buyer-1"
    assert (
        "深海鱼油" in action.payload["text"] and order.external_order_id in action.payload["text"]
    )


def test_staff_rule_makes_a_task_for_the_deputy(org_a, group, buyer):
    FollowUpRuleFactory(organization=org_a.org, channel="staff")
    _order(org_a, buyer, group)
    make_follow_ups(org_a.org.pk)  # the Celery task, as beat's fan-out runs it
    task = FollowUpTask.objects.for_org(org_a.org).get()
    assert task.status == "open" and task.assignee == org_a.deputy and task.action is None


def test_orders_before_the_rule_and_unbought_orders_are_left_alone(org_a, group, buyer):
    FollowUpRuleFactory(organization=org_a.org, active_since=timezone.now() - 2 * HOUR)
    _order(org_a, buyer, group, paid_at=timezone.now() - 5 * HOUR)  # before the rule
    _order(org_a, buyer, group, status="refunded")
    _order(org_a, buyer, group, status="pending_payment", paid_at=None)
    assert followups.make_follow_ups(org_a.org) == 0


def test_rule_limited_to_one_group(org_a, group, other_group, buyer):
    FollowUpRuleFactory(organization=org_a.org, community=other_group)
    _order(org_a, buyer, group)
    mine = _order(org_a, buyer, other_group)
    assert followups.make_follow_ups(org_a.org) == 1
    assert FollowUpTask.objects.for_org(org_a.org).get().order == mine


def test_delivery_trigger_waits_for_the_delivered_event(org_a, group, post):
    FollowUpRuleFactory(organization=org_a.org, trigger="delivered", delay_hours=72)
    post([ev("order.placed", order_id="o-7", amount="59")])
    assert followups.make_follow_ups(org_a.org) == 0
    post([ev("order.delivered", order_id="o-7", at=10)])  # T0 + 10 min: in the past
    # ev() dates events on 2026-11-20; the rule must have been active by then
    from care.models import FollowUpRule

    FollowUpRule.objects.for_org(org_a.org).update(
        active_since=timezone.now() - timezone.timedelta(days=3650)
    )
    now = datetime(2026, 11, 23, 12, 11, tzinfo=UTC)
    assert followups.make_follow_ups(org_a.org, now=now - timezone.timedelta(minutes=2)) == 0
    assert followups.make_follow_ups(org_a.org, now=now) == 1


def test_bot_rule_without_an_identity_falls_back_to_staff(org_a, group):
    from tests.factories import MemberFactory

    FollowUpRuleFactory(organization=org_a.org, channel="bot")
    _order(org_a, MemberFactory(organization=org_a.org), group)
    followups.make_follow_ups(org_a.org)
    task = FollowUpTask.objects.for_org(org_a.org).get()
    assert (task.channel, task.status, task.assignee) == ("staff", "open", org_a.deputy)


def test_finishing_a_follow_up_can_open_a_case(org_a, group, buyer, deputy):
    FollowUpRuleFactory(organization=org_a.org)
    _order(org_a, buyer, group)
    followups.make_follow_ups(org_a.org)
    task = FollowUpTask.objects.for_org(org_a.org).get()
    task = followups.follow_up_finish(
        actor=deputy, task=task, outcome="done", note="说胶囊有点大", open_case=True
    )
    assert task.status == "done" and task.case is not None
    case = Case.objects.for_org(org_a.org).get()
    assert (case.kind, case.source, case.order_id) == ("after_sales", "follow_up", task.order_id)
    with pytest.raises(ValidationError):
        followups.follow_up_finish(actor=deputy, task=task, outcome="skipped")


def test_rule_validation_and_pause(org_a):
    owner = org_a.actor()
    with pytest.raises(ValidationError):
        followups.rule_create(
            actor=owner, name="", trigger="bought", delay_hours=0, channel="bot", message="x"
        )
    with pytest.raises(ValidationError):
        followups.rule_create(
            actor=owner, name="x", trigger="bought", delay_hours=-1, channel="bot", message="x"
        )
    rule = followups.rule_create(
        actor=owner, name="发货确认", trigger="bought", delay_hours=0, channel="bot", message="x"
    )
    rule = followups.rule_set_active(actor=owner, rule=rule, active=False)
    assert not rule.is_active
    before = rule.active_since
    rule = followups.rule_set_active(actor=owner, rule=rule, active=True)
    assert rule.is_active and rule.active_since > before
