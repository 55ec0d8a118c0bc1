"""Complaint keywords in messages open cases (idempotently); shipping events are recorded."""

import pytest
from django.db import IntegrityError, transaction

from care import services
from care.batch import keyword_in
from care.models import Case, CaseEvent, CommunityKeywords, OrderMilestone
from tests.factories import CaseFactory, MemberFactory

from .conftest import ev


def test_keyword_message_opens_a_case_for_the_deputy(org_a, group, post):
    result = post([ev("message.posted", text="这个产品质量太差了", display_name="小红")])
    assert result["accepted"] == 1
    case = Case.objects.for_org(org_a.org).get()
    assert case.kind == "complaint" and case.source == "keyword" and case.priority == "high"
    assert case.community == group and case.assignee == org_a.deputy
    assert case.member.display_name == "小红"
    assert case.source_event_id == "e" + case.source_event_id[1:]
    assert (case.first_response_due_at - case.clock_started_at).total_seconds() == 600


def test_resent_event_opens_nothing_more(org_a, group, post):
    event = ev("message.posted", text="我要投诉")
    post([event])
    assert post([event]) == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert Case.objects.for_org(org_a.org).count() == 1
    assert CaseEvent.objects.for_org(org_a.org).count() == 1


def test_source_event_is_unique_in_the_database(org_a, group):
    first = CaseFactory(organization=org_a.org, community=group, source_event_id="e-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(
            organization=org_a.org,
            community=group,
            member=MemberFactory(organization=org_a.org),
            source_event_id=first.source_event_id,
        )


def test_a_second_complaint_joins_the_open_case(org_a, group, post):
    post([ev("message.posted", text="质量太差", at=0), ev("message.posted", text="退款！", at=1)])
    post([ev("message.posted", text="还没人理我？投诉", at=5)])
    case = Case.objects.for_org(org_a.org).get()
    kinds = list(case.events.order_by("created_at").values_list("kind", flat=True))
    assert kinds == ["opened", "message", "message"]


def test_after_closing_a_new_complaint_opens_a_new_case(org_a, group, post):
    post([ev("message.posted", text="质量太差")])
    case = Case.objects.for_org(org_a.org).get()
    owner = org_a.actor()
    for step in ["responded", "acknowledged", "resolved", "followed_up", "closed"]:
        services.case_step(actor=owner, case=case, step=step, resolution="explanation")
    post([ev("message.posted", text="又坏了", at=60)])
    assert Case.objects.for_org(org_a.org).count() == 2


def test_ordinary_messages_open_nothing(org_a, group, post, django_assert_max_num_queries):
    post([ev("message.posted", text="大家早上好", at=1), ev("member.checked_in", at=2)])
    assert not Case.objects.for_org(org_a.org).exists()


def test_group_keywords_override_the_orgs(org_a, group, other_group, post):
    CommunityKeywords.objects.create(organization=org_a.org, community=group, keywords=["不新鲜"])
    post(
        [
            ev("message.posted", text="我要投诉", community="g1"),
            ev("message.posted", user="u2", text="水果不新鲜", community="g1", at=1),
            ev("message.posted", user="u3", text="我要投诉", community="g2", at=2),
        ]
    )
    cases = Case.objects.for_org(org_a.org).order_by("pk")
    assert [
        (c.community.external_id, c.member.identities.get().external_user_id) for c in cases
    ] == [
        ("g1", "u2"),
        ("g2", "u3"),
    ]
    assert cases[1].assignee is None  # g2 has no staff


def test_message_text_is_kept_only_if_the_org_keeps_text(org_a, group, post):
    post([ev("message.posted", text="这个产品质量太差了，电话13800000000")])
    case = Case.objects.for_org(org_a.org).get()
    assert "13800000000" not in case.subject
    assert "13800000000" not in case.events.get().text
    org_a.org.store_message_text = True
    org_a.org.save()
    post([ev("message.posted", user="u9", text="质量太差了！！")])
    kept = Case.objects.for_org(org_a.org).exclude(pk=case.pk).get()
    assert kept.subject == "质量太差了！！"


def test_keyword_matching_ignores_case():
    assert keyword_in("This is a SCAM", ["scam"]) == "scam"
    assert keyword_in("很好", ["投诉"]) is None


def test_shipping_and_delivery_are_recorded_once(org_a, group, post):
    post([ev("order.placed", order_id="o-1", amount="59")])
    shipped = ev("order.shipped", order_id="o-1", at=60, tracking="SF123")
    post(
        [
            shipped,
            ev("order.delivered", order_id="o-1", at=2000),
            ev("order.delivered", order_id="nope", at=3),
        ]
    )
    post([shipped])
    rows = OrderMilestone.objects.for_org(org_a.org).order_by("kind")
    assert [(m.kind, m.tracking) for m in rows] == [("delivered", ""), ("shipped", "SF123")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_batches_open_one_case():
    """Ingestion locks the batch's memberships, so the second batch sees the first's case and
    joins it; either way there is one open complaint."""
    from ingestion.pipeline import ingest_events
    from tenancy.actors import Actor
    from tenancy.services import organization_create
    from tests.concurrency import run_concurrently

    org = organization_create(name="并发投诉", slug="care-race", owner_email="c@example.com")
    actor = Actor.system(org, "tests")
    ingest_events(actor=actor, raw_events=[ev("member.joined")])  # the group and the member
    batches = [[ev("message.posted", text="投诉", at=1)], [ev("message.posted", text="退款", at=2)]]

    def work():
        return ingest_events(actor=actor, raw_events=batches.pop()).accepted

    assert run_concurrently(work) == [1, 1]
    case = Case.objects.for_org(org).get()
    assert sorted(case.events.values_list("kind", flat=True)) == ["message", "opened"]
