"""A member's data on request: export (JSON, page and API) and erasure of personal data that
keeps rows, counts, orders and the audit log."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from campaigns.models import Order
from integrations.models import Action
from members import privacy
from members.models import Member, Membership, RawEvent, Warning
from tenancy.models import AuditLogEntry

from .conftest import ev

NAME, CARD, PHONE = "小王同学", "西安-小王同学-白藜芦醇", "+86 138 0013 8000"


@pytest.fixture
def person(org_a, group, post):
    """A member who joined, chatted (text kept), ordered, checked in and got warned."""
    org = org_a.org
    org.store_message_text = True
    org.save()
    post(
        [
            ev("member.joined", user="p1", display_name=NAME, name_card=CARD, at=0),
            ev("message.posted", user="p1", text=f"大家好，我是{NAME}，电话{PHONE}", at=1),
            ev("member.checked_in", user="p1", at=2),
            ev(
                "order.placed",
                user="p1",
                order_id="o-1",
                amount="99.00",
                items=[{"name": "白藜芦醇", "quantity": 1, "price": "99.00"}],
                at=3,
            ),
        ]
    )
    member = Member.objects.for_org(org).get(identities__external_user_id="p1")
    from members import services

    services.member_update(
        actor=org_a.actor(),
        member=member,
        tags=["VIP", "西安"],
        notes=f"{NAME} 爱买保健品",
        phone=PHONE,
    )
    membership = Membership.objects.for_org(org).get(member=member)
    services.member_warn(actor=org_a.actor(), membership=membership, reason=f"{NAME} 发广告")
    member.refresh_from_db()
    return member


def _everything(org, member) -> str:
    """Every stored text that may hold the person's data, as one string."""
    parts = [
        repr(Member.objects.for_org(org).filter(pk=member.pk).values().get()),
        repr(list(member.identities.values())),
        repr(list(RawEvent.objects.for_org(org).filter(member=member).values("payload"))),
        repr(list(Action.objects.for_org(org).filter(member=member).values("payload"))),
        repr(list(Warning.objects.for_org(org).filter(membership__member=member).values())),
        repr(list(AuditLogEntry.objects.for_org(org).values("object_repr", "summary", "changes"))),
    ]
    return "\n".join(parts)


def test_export_has_everything_and_is_audited(org_a, person):
    data = privacy.member_export(actor=org_a.actor(), member=person)
    json.dumps(data)  # JSON-ready
    assert data["member"]["display_name"] == NAME and data["member"]["phone"] == PHONE
    assert data["identities"][0]["external_user_id"] == "p1"
    assert data["memberships"][0]["history"]
    assert data["warnings"] and data["orders"][0]["amount"] == "99.00"
    assert data["check_ins"] and data["points_ledger"]
    assert {e["type"] for e in data["raw_events"]} >= {"member.joined", "message.posted"}
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="member.export").exists()


def test_erasure_removes_the_personal_data_and_keeps_rows_counts_and_orders(org_a, person):
    org = org_a.org
    before = {
        "events": RawEvent.objects.for_org(org).filter(member=person).count(),
        "messages": Membership.objects.for_org(org).get(member=person).message_count,
        "orders": list(Order.objects.for_org(org).filter(member=person).values("amount", "status")),
        "points": person.points_balance,
    }
    assert NAME in _everything(org, person)

    privacy.member_erase(actor=org_a.actor(org_a.manager), member=person)

    person.refresh_from_db()
    assert person.erased_at is not None
    assert (person.display_name, person.name_card, person.phone) == (
        privacy.ERASED,
        privacy.ERASED,
        "",
    )
    assert person.notes == "" and person.tags == []
    stored = _everything(org, person)
    for value in (NAME, CARD, PHONE):
        assert value not in stored
    assert "白藜芦醇" in repr(
        list(RawEvent.objects.for_org(org).filter(type="order.placed").values("payload"))
    )  # product names are not personal data
    after = {
        "events": RawEvent.objects.for_org(org).filter(member=person).count(),
        "messages": Membership.objects.for_org(org).get(member=person).message_count,
        "orders": list(Order.objects.for_org(org).filter(member=person).values("amount", "status")),
        "points": person.points_balance,
    }
    assert after == before
    entry = AuditLogEntry.objects.for_org(org).get(action="member.erase")
    assert entry.actor_user == org_a.manager and entry.object_id == str(person.pk)
    assert str(person.pk) in entry.summary


def test_erasing_twice_is_refused(org_a, person):
    privacy.member_erase(actor=org_a.actor(), member=person)
    with pytest.raises(ValidationError):
        privacy.member_erase(actor=org_a.actor(), member=person)


@pytest.mark.parametrize("who", ["analyst", "deputy"])
def test_only_owner_and_manager_may_export_or_erase(org_a, person, who):
    actor = org_a.actor(getattr(org_a, who))
    with pytest.raises(PermissionDenied):
        privacy.member_export(actor=actor, member=person)
    with pytest.raises(PermissionDenied):
        privacy.member_erase(actor=actor, member=person)


def test_member_page_buttons_download_and_erase(org_a, person):
    client = org_a.client_for(org_a.owner)
    page = client.get(reverse("member-detail", args=[org_a.org.slug, person.pk]))
    assert b'data-testid="privacy"' in page.content and PHONE.encode() in page.content
    download = client.get(reverse("member-data-export", args=[org_a.org.slug, person.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert json.loads(download.content)["member"]["name_card"] == CARD

    erase = reverse("member-erase", args=[org_a.org.slug, person.pk])
    client.post(erase)  # not confirmed: nothing happens
    person.refresh_from_db()
    assert person.erased_at is None
    response = client.post(erase, {"confirm": "yes"}, follow=True)
    assert b'data-testid="erased"' in response.content
    person.refresh_from_db()
    assert person.erased_at is not None

    analyst = org_a.client_for(org_a.analyst)
    page = analyst.get(reverse("member-detail", args=[org_a.org.slug, person.pk]))
    assert b'data-testid="privacy"' not in page.content
    assert analyst.post(erase, {"confirm": "yes"}).status_code == 403


def test_phone_is_edited_on_the_member_page_and_validated(org_a, person):
    client = org_a.client_for(org_a.owner)
    url = reverse("member-detail", args=[org_a.org.slug, person.pk])
    client.post(url, {"tags": "", "notes": "", "phone": "+86 139 0000 0000"})
    person.refresh_from_db()
    assert person.phone == "+86 139 0000 0000"
    client.post(url, {"tags": "", "notes": "", "phone": "call me maybe"})
    person.refresh_from_db()
    assert person.phone == "+86 139 0000 0000"


def test_api_export_and_erase(org_a, org_b, person):
    client = org_a.api_client()
    export = client.get(f"/api/v1/members/{person.pk}/export/")
    assert export.status_code == 200 and export.json()["member"]["phone"] == PHONE
    url = f"/api/v1/members/{person.pk}/erase/"
    refused = client.post(url, {"confirm": False}, content_type="application/json")
    assert refused.status_code == 400
    erased = client.post(url, {"confirm": True}, content_type="application/json")
    assert erased.status_code == 200, erased.content
    assert erased.json()["erased_at"] and erased.json()["display_name"] == privacy.ERASED
    again = client.post(url, {"confirm": True}, content_type="application/json")
    assert again.status_code == 409  # already erased: the state, not the request
    # another organization's key: the member does not exist for it
    assert org_b.api_client().get(f"/api/v1/members/{person.pk}/export/").status_code == 404
    assert (
        org_b.api_client().post(url, {"confirm": True}, content_type="application/json").status_code
        == 404
    )


def test_api_phone_is_writable(org_a, person):
    url = f"/api/v1/members/{person.pk}/"
    client = org_a.api_client()
    ok = client.patch(url, {"phone": "010-1234 5678"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["phone"] == "010-1234 5678"
    bad = client.patch(url, {"phone": "<script>"}, content_type="application/json")
    assert bad.status_code == 400


def test_events_after_the_erasure_do_not_collect_the_names_again(org_a, person, post):
    privacy.member_erase(actor=org_a.actor(), member=person)
    post(
        [
            ev("message.posted", user="p1", display_name=NAME, name_card=CARD, text="又是我", at=9),
        ]
    )
    person.refresh_from_db()
    assert (person.display_name, person.name_card) == (privacy.ERASED, privacy.ERASED)
    stored = _everything(org_a.org, person)
    assert NAME not in stored and CARD not in stored and "又是我" not in stored
    membership = Membership.objects.for_org(org_a.org).get(member=person)
    assert membership.message_count == 2  # the message still counts


def test_member_care_cases_are_exported_and_scrubbed(org_a, person):
    from care.models import Case, CaseEvent
    from tests.factories import CaseFactory

    case = CaseFactory(organization=org_a.org, member=person, subject=f"{NAME} 投诉物流太慢")
    CaseEvent.objects.create(
        organization=org_a.org, case=case, kind="message", text=f"我是{NAME}，电话 {PHONE}"
    )
    data = privacy.member_export(actor=org_a.actor(), member=person)
    assert data["care_cases"][0]["subject"].startswith(NAME)
    assert PHONE in data["care_case_events"][0]["text"]

    privacy.member_erase(actor=org_a.actor(), member=person)
    case = Case.objects.for_org(org_a.org).get(pk=case.pk)
    event = CaseEvent.objects.for_org(org_a.org).get(case=case)
    assert NAME not in case.subject and "投诉物流太慢" in case.subject
    assert NAME not in event.text and PHONE not in event.text
