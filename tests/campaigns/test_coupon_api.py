"""REST API of coupon templates: list with counts, create (field errors, other organizations'
ids refused), retire (twice is 409), and giving coupons to members by id (the good ones are
kept, the others listed with the reason)."""

import pytest

from campaigns import coupons
from campaigns.models import CouponTemplate, IssuedCoupon
from tenancy.actors import Actor
from tenancy.services import api_key_create

from ..factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/coupon-templates/"


def _post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def _member(org):
    return MembershipFactory(organization=org).member


def test_create_list_and_retire(org_a, org_b):
    client = org_a.api_client()
    group = CommunityFactory(organization=org_a.org)
    body = {
        "name": "满100减10",
        "kind": "amount",
        "value": "10",
        "min_spend": "100",
        "valid_days": 30,
        "scope": "groups",
        "communities": [group.pk],
        "points_cost": 100,
    }
    created = _post(client, BASE, body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["communities"] == [group.pk] and data["points_cost"] == 100
    assert (data["issued_count"], data["used"], data["available"]) == (0, 0, 0)
    listed = client.get(BASE).json()
    assert [t["id"] for t in listed["results"]] == [data["id"]]
    retired = _post(client, f"{BASE}{data['id']}/retire/")
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    assert _post(client, f"{BASE}{data['id']}/retire/").status_code == 409
    # another organization's group: a field error, nothing saved
    theirs = CommunityFactory(organization=org_b.org)
    refused = _post(client, BASE, {**body, "communities": [theirs.pk]})
    assert refused.status_code == 400
    assert CouponTemplate.objects.for_org(org_a.org).count() == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "percent", "value": "150"}, "value"),
        ({"valid_days": None}, "valid_days"),
        ({"scope": "campaigns"}, "campaigns"),
        ({"value": "1e99"}, "value"),
        ({"kind": "nope"}, "kind"),
    ],
)
def test_bad_input_is_400_with_the_field(org_a, change, field):
    body = {"name": "券", "kind": "amount", "value": "5", "valid_days": 30, **change}
    response = _post(org_a.api_client(), BASE, body)
    assert response.status_code == 400, response.content
    assert field in str(response.json())
    assert not CouponTemplate.objects.for_org(org_a.org).exists()


def test_issue_keeps_the_good_members_and_lists_the_others(org_a, org_b):
    template = coupons.template_create(
        actor=org_a.actor(),
        name="5元券",
        kind="amount",
        value="5",
        valid_days=30,
        quantity_limit=2,
    )
    mine = [_member(org_a.org) for _ in range(3)]
    theirs = _member(org_b.org)
    ids = [m.pk for m in mine] + [theirs.pk, 2**62]
    response = _post(
        org_a.api_client(), f"{BASE}{template.pk}/issue/", {"members": ids, "reason": "回馈"}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert [i["member"] for i in data["issued"]] == [mine[0].pk, mine[1].pk]
    assert sorted(r["member"] for r in data["rejected"]) == sorted([mine[2].pk, theirs.pk, 2**62])
    assert all(r["reason"] for r in data["rejected"])
    assert IssuedCoupon.objects.for_org(org_a.org).count() == 2
    assert not IssuedCoupon.objects.for_org(org_b.org).exists()
    # no reason, or no members: 400; a retired template: 409
    assert (
        _post(org_a.api_client(), f"{BASE}{template.pk}/issue/", {"members": ids}).status_code
        == 400
    )
    coupons.template_retire(actor=org_a.actor(), template=template)
    again = _post(
        org_a.api_client(), f"{BASE}{template.pk}/issue/", {"members": ids, "reason": "x"}
    )
    assert again.status_code == 409


def test_an_analyst_key_reads_but_does_not_change(org_a):
    _key, raw = api_key_create(actor=Actor.system(org_a.org, "tests"), name="ro", role="analyst")
    client = org_a.api_client(raw)
    assert client.get(BASE).status_code == 200
    body = {"name": "券", "kind": "amount", "value": "5", "valid_days": 30}
    assert _post(client, BASE, body).status_code == 403
