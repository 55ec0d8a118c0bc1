"""A case moves through seed 002's steps one at a time; nothing closes without a resolution."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from campaigns.models import Order
from care import services
from care.models import Case, CaseEvent, CaseStatus
from integrations.models import Action
from tenancy.models import AuditLogEntry
from tests.factories import OrderFactory

STEPS = ["responded", "acknowledged", "resolved", "followed_up", "closed"]


@pytest.fixture
def case(org_a, group, member_in, deputy):
    return services.case_open(
        actor=deputy,
        member=member_in(group),
        community=group,
        kind="complaint",
        subject="这个产品质量太差了",
    )


def _walk(actor, case, upto, resolution="replacement"):
    for step in STEPS[: STEPS.index(upto) + 1]:
        case = services.case_step(
            actor=actor, case=case, step=step, resolution=resolution if step == "resolved" else ""
        )
    return case


def test_opened_case_is_assigned_to_the_groups_deputy(org_a, case):
    assert case.assignee == org_a.deputy
    assert case.status == CaseStatus.OPEN
    assert CaseEvent.objects.for_org(org_a.org).filter(case=case, kind="opened").exists()
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="care.case_open").exists()


def test_every_step_in_order_records_who_and_when(org_a, case, deputy):
    case = _walk(deputy, case, "closed")
    assert case.status == "closed"
    for field in ("responded_at", "acknowledged_at", "resolved_at", "followed_up_at", "closed_at"):
        assert getattr(case, field) is not None
    assert case.responded_by == org_a.deputy and case.resolved_by == org_a.deputy
    steps = list(
        CaseEvent.objects.for_org(org_a.org)
        .filter(case=case, kind="step")
        .values_list("step", "actor_user_id")
    )
    assert steps == [(s, org_a.deputy.pk) for s in STEPS]


@pytest.mark.parametrize("target", ["acknowledged", "resolved", "followed_up", "closed"])
def test_no_step_can_be_skipped(case, deputy, target):
    with pytest.raises(ValidationError) as info:
        services.case_step(actor=deputy, case=case, step=target, resolution="refund")
    assert "step" in info.value.message_dict
    case.refresh_from_db()
    assert case.status == "open"


def test_resolving_needs_a_resolution(case, deputy):
    _walk(deputy, case, "acknowledged")
    with pytest.raises(ValidationError) as info:
        services.case_step(actor=deputy, case=case, step="resolved")
    assert "resolution" in info.value.message_dict
    case.refresh_from_db()
    assert case.status == "acknowledged" and case.resolution == ""


def test_the_database_refuses_closed_without_resolution(org_a, case):
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.for_org(org_a.org).filter(pk=case.pk).update(status="closed")


def test_a_closed_case_takes_no_more_steps(case, deputy):
    case = _walk(deputy, case, "closed")
    with pytest.raises(ValidationError):
        services.case_step(actor=deputy, case=case, step="responded")


def test_unknown_step_is_refused(case, deputy):
    with pytest.raises(ValidationError):
        services.case_step(actor=deputy, case=case, step="open")


def test_reply_goes_to_the_outbox(org_a, case, deputy):
    services.case_step(
        actor=deputy, case=case, step="responded", reply="实在对不起，能和我说说具体问题吗？"
    )
    action = Action.objects.for_org(org_a.org).get(kind="post.reply")
    assert action.payload["text"].startswith("实在对不起")
    assert action.member_id == case.member_id
    assert CaseEvent.objects.for_org(org_a.org).filter(case=case, kind="reply").exists()


def test_refund_goes_through_the_campaigns_refund_service(org_a, group, member_in):
    owner = org_a.actor()
    member = member_in(group)
    order = OrderFactory(organization=org_a.org, member=member, community=group, status="paid")
    case = services.case_open(
        actor=owner, member=member, order=order, kind="refund", subject="收到破损"
    )
    assert case.community == group  # the order's group
    case = _walk(owner, case, "resolved", resolution="refund")
    order = Order.objects.for_org(org_a.org).get(pk=order.pk)
    assert order.status == "refunded" and order.refunded_at is not None
    assert CaseEvent.objects.for_org(org_a.org).filter(case=case, kind="refund").exists()
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="order.refunded").exists()


def test_a_refund_the_actor_may_not_make_rolls_the_step_back(org_a, group, member_in, deputy):
    member = member_in(group)
    order = OrderFactory(organization=org_a.org, member=member, community=group, status="paid")
    case = services.case_open(
        actor=deputy, member=member, order=order, kind="refund", subject="退款"
    )
    _walk(deputy, case, "acknowledged")
    with pytest.raises(PermissionDenied):  # deputies do not hold order.manage
        services.case_step(actor=deputy, case=case, step="resolved", resolution="refund")
    case.refresh_from_db()
    assert case.status == "acknowledged"
    assert Order.objects.for_org(org_a.org).get(pk=order.pk).status == "paid"


def test_unpaid_order_cannot_be_refunded_on_a_case(org_a, group, member_in):
    owner = org_a.actor()
    member = member_in(group)
    order = OrderFactory(organization=org_a.org, member=member, community=group)
    case = services.case_open(actor=owner, member=member, order=order, kind="refund", subject="x")
    _walk(owner, case, "acknowledged")
    with pytest.raises(ValidationError):
        services.case_step(actor=owner, case=case, step="resolved", resolution="refund")


def test_one_open_complaint_per_member_and_group(org_a, group, case, deputy):
    with pytest.raises(ValidationError):
        services.case_open(
            actor=deputy, member=case.member, community=group, kind="complaint", subject="again"
        )
    _walk(deputy, case, "closed")
    again = services.case_open(
        actor=deputy, member=case.member, community=group, kind="complaint", subject="again"
    )
    assert again.pk != case.pk


def test_order_of_another_member_is_refused(org_a, group, member_in):
    order = OrderFactory(organization=org_a.org, community=group)
    with pytest.raises(ValidationError):
        services.case_open(
            actor=org_a.actor(), member=member_in(group), order=order, kind="other", subject="x"
        )


def test_staff_of_another_group_and_analysts_may_not_act(org_a, case, other_group, member_in):
    with pytest.raises(PermissionDenied):
        services.case_step(actor=org_a.actor(org_a.analyst), case=case, step="responded")
    with pytest.raises(PermissionDenied):
        services.case_open(
            actor=org_a.actor(org_a.deputy),
            member=member_in(other_group),
            community=other_group,
            kind="complaint",
            subject="x",
        )


def test_assign_only_to_people_who_may_handle_the_group(org_a, case):
    owner = org_a.actor()
    with pytest.raises(ValidationError):
        services.case_assign(actor=owner, case=case, assignee=org_a.analyst)
    case = services.case_assign(actor=owner, case=case, assignee=org_a.manager, priority="urgent")
    assert case.assignee == org_a.manager and case.priority == "urgent"
    assert CaseEvent.objects.for_org(org_a.org).filter(case=case, kind="assigned").exists()


def test_comments_are_validated(case, deputy):
    with pytest.raises(ValidationError):
        services.case_comment(actor=deputy, case=case, text="   ")
    with pytest.raises(ValidationError):
        services.case_comment(actor=deputy, case=case, text="x" * 2001)
    assert services.case_comment(actor=deputy, case=case, text="已电话联系").text == "已电话联系"


def test_reopening_returns_the_case_for_a_new_resolution_and_keeps_history(org_a, case, deputy):
    case = _walk(deputy, case, "closed")
    with pytest.raises(ValidationError):
        services.case_reopen(actor=deputy, case=case, reason="  ")
    case = services.case_reopen(actor=deputy, case=case, reason="补发的也是坏的")
    assert case.status == "acknowledged" and case.next_step == "resolved"
    assert case.resolution == "" and case.closed_at is None and case.resolved_at is None
    assert case.responded_at is not None  # the first response still counts
    assert case.reopen_count == 1 and case.reopened_at is not None
    kinds = list(CaseEvent.objects.for_org(org_a.org).filter(case=case).values_list("kind", "step"))
    assert ("step", "resolved") in kinds and ("step", "closed") in kinds
    assert kinds[-1] == ("reopened", "")
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="care.case_reopen").exists()
    case = _walk_from(deputy, case, "closed", resolution="explanation")
    assert case.status == "closed"
    case = services.case_reopen(actor=deputy, case=case, reason="又坏了")
    assert case.reopen_count == 2


def _walk_from(actor, case, upto, resolution):
    while case.status != upto:
        step = case.next_step
        case = services.case_step(
            actor=actor, case=case, step=step, resolution=resolution if step == "resolved" else ""
        )
    return case


@pytest.mark.parametrize("upto", [None, "responded", "acknowledged"])
def test_only_a_resolved_or_later_case_can_be_reopened(case, deputy, upto):
    if upto:
        case = _walk(deputy, case, upto)
    with pytest.raises(ValidationError):
        services.case_reopen(actor=deputy, case=case, reason="再看看")


def test_reopening_a_complaint_while_a_newer_one_is_open_is_refused(org_a, group, case, deputy):
    case = _walk(deputy, case, "closed")
    newer = services.case_open(
        actor=deputy, member=case.member, community=group, kind="complaint", subject="又来了"
    )
    with pytest.raises(ValidationError) as info:
        services.case_reopen(actor=deputy, case=case, reason="同一个问题")
    assert f"#{newer.pk}" in str(info.value)
    case.refresh_from_db()
    assert case.status == "closed" and case.reopen_count == 0


def test_analysts_may_not_reopen(org_a, case, deputy):
    case = _walk(deputy, case, "resolved")
    with pytest.raises(PermissionDenied):
        services.case_reopen(actor=org_a.actor(org_a.analyst), case=case, reason="x")
