"""The coupon pages of the dashboard: templates (list with counts, create, change, retire),
issuing by hand to one member or a filtered list (with who was skipped and why), the issued
coupons with filters and history, the coupon settings and segment perks; who may do what;
another organization's objects are 404; bad input is a form error, never a 500."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from campaigns import coupons
from campaigns.models import (
    CouponSettings,
    CouponStatus,
    CouponTemplate,
    IssuedCoupon,
    SegmentPerk,
)
from communities.models import StaffAssignment
from tenancy.models import AuditLogEntry

from ..factories import CommunityFactory, MembershipFactory, UserFactory, VipTierFactory

pytestmark = pytest.mark.django_db


def zh(message: str) -> str:
    """The zh-hans words of a message (and proof that it is translated)."""
    with translation.override("zh-hans"):
        words = gettext(message)
    assert words != message, f"not translated: {message}"
    return words


def url(org, name, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _template(org_a, **kw):
    values = {"name": "满100减10", "kind": "amount", "value": "10", "valid_days": 30, **kw}
    return coupons.template_create(actor=org_a.actor(), **values)


def _member(org, community=None, **kw):
    community = community or CommunityFactory(organization=org)
    return MembershipFactory(organization=org, community=community, **kw).member


TEMPLATE_FORM = {
    "name": "新人专享10元券",
    "kind": "amount",
    "value": "10",
    "min_spend": "0",
    "valid_days": "30",
    "scope": "all",
}


# --- templates ---------------------------------------------------------------------------------


def test_list_shows_terms_and_counts_and_buttons_by_role(org_a):
    template = _template(org_a, min_spend="100")
    members = [_member(org_a.org) for _ in range(3)]
    issued = coupons.coupon_issue_many(
        actor=org_a.actor(), template=template, members=members, reason="补偿"
    ).issued
    IssuedCoupon.objects.for_org(org_a.org).filter(pk=issued[0].pk).update(
        status=CouponStatus.EXPIRED
    )
    page = org_a.client_for(org_a.owner).get(url(org_a.org, "coupons"))
    assert page.status_code == 200
    row = page.context["page"][0]
    assert (row.issued_count, row.used, row.available) == (3, 0, 2)
    html = page.content.decode()
    assert "满100减10" in html and "¥100.00" in html
    assert url(org_a.org, "coupon-create") in html
    assert url(org_a.org, "coupon-retire", pk=template.pk) in html
    assert 'data-testid="nav-coupons"' in html
    analyst = org_a.client_for(org_a.analyst).get(url(org_a.org, "coupons"))
    assert analyst.status_code == 200
    assert url(org_a.org, "coupon-create") not in analyst.content.decode()
    assert org_a.client_for(org_a.deputy).get(url(org_a.org, "coupons")).status_code == 403


def test_create_saves_a_template_with_scope_and_points_price(org_a):
    group = CommunityFactory(organization=org_a.org)
    client = org_a.client_for(org_a.owner)
    response = client.post(
        url(org_a.org, "coupon-create"),
        {
            **TEMPLATE_FORM,
            "kind": "percent",
            "value": "15",
            "max_off": "20",
            "scope": "groups",
            "communities": [group.pk],
            "points_cost": "100",
            "quantity_limit": "50",
        },
    )
    assert response.status_code == 302
    template = CouponTemplate.objects.for_org(org_a.org).get()
    assert (template.kind, template.value, template.max_off) == ("percent", 15, 20)
    assert [t.community_id for t in template.targets.all()] == [group.pk]
    assert template.redemption_item.points_cost == 100
    assert template.quantity_limit == 50


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"kind": "percent", "value": "150"}, "value", "A percentage is between 1 and 100."),
        (
            {"valid_days": ""},
            "valid_days",
            "Give the days it is valid after issue, or an end date.",
        ),
        ({"scope": "campaigns"}, "campaigns", "Choose at least one campaign."),
        ({"value": "0"}, "value", "Give the amount off, or make it a free-shipping coupon."),
        ({"name": ""}, "name", "This field is required."),
        ({"value": "abc"}, "value", "Enter a number."),
        ({"valid_days": "1e99"}, "valid_days", "Enter a whole number."),
        ({"kind": "bogus"}, "kind", None),
        ({"valid_until": "2001-01-01T10:00"}, "valid_until", "The end date is already past."),
    ],
)
def test_bad_template_input_is_a_translated_field_error(org_a, change, field, message):
    response = org_a.client_for(org_a.owner).post(
        url(org_a.org, "coupon-create"), {**TEMPLATE_FORM, **change}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    if message:
        assert zh(message) in errors[field]
    assert not CouponTemplate.objects.for_org(org_a.org).exists()


def test_change_saves_a_new_template_retires_the_old_and_moves_the_automatic_paths(org_a):
    old = _template(org_a, points_cost=100)
    coupons.settings_save(actor=org_a.actor(), newcomer_template=old, wake_up_template=old)
    held = coupons.coupon_issue(
        actor=org_a.actor(), template=old, member=_member(org_a.org), reason="补偿"
    )
    client = org_a.client_for(org_a.owner)
    page = client.get(url(org_a.org, "coupon-edit", pk=old.pk))
    assert page.context["form"].initial["points_cost"] == 100
    response = client.post(
        url(org_a.org, "coupon-edit", pk=old.pk), {**TEMPLATE_FORM, "value": "12"}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = CouponTemplate.objects.for_org(org_a.org).get(is_active=True)
    assert not old.is_active and new.value == 12
    assert not old.redemption_item.is_active
    current = CouponSettings.objects.for_org(org_a.org).get()
    assert current.newcomer_template == new and current.wake_up_template == new
    held.refresh_from_db()
    assert held.template == old and held.status == CouponStatus.AVAILABLE
    # bad input changes nothing
    bad = client.post(url(org_a.org, "coupon-edit", pk=new.pk), {**TEMPLATE_FORM, "value": "x"})
    assert bad.status_code == 400
    assert CouponTemplate.objects.for_org(org_a.org).get(is_active=True) == new


def test_retire_keeps_everything_and_twice_is_a_message(org_a):
    template = _template(org_a)
    client = org_a.client_for(org_a.owner)
    assert client.post(url(org_a.org, "coupon-retire", pk=template.pk)).status_code == 302
    template.refresh_from_db()
    assert not template.is_active and template.retired_at
    again = client.post(url(org_a.org, "coupon-retire", pk=template.pk), follow=True)
    assert again.status_code == 200
    assert zh("This coupon is already retired.") in again.content.decode()
    assert CouponTemplate.objects.for_org(org_a.org).count() == 1


def test_manage_pages_are_the_managers(org_a):
    template = _template(org_a)
    analyst = org_a.client_for(org_a.analyst)
    for name, kwargs in [
        ("coupon-create", {}),
        ("coupon-edit", {"pk": template.pk}),
        ("coupon-settings", {}),
        ("coupon-perk-create", {}),
    ]:
        assert analyst.get(url(org_a.org, name, **kwargs)).status_code == 403
    assert analyst.post(url(org_a.org, "coupon-retire", pk=template.pk)).status_code == 403
    assert CouponTemplate.objects.for_org(org_a.org).get().is_active


# --- issuing by hand ---------------------------------------------------------------------------


def test_give_one_member_a_coupon_from_their_page(org_a):
    template = _template(org_a)
    member = _member(org_a.org)
    client = org_a.client_for(org_a.owner)
    detail = client.get(url(org_a.org, "member-detail", pk=member.pk)).content.decode()
    give = f"{url(org_a.org, 'coupon-issue')}?member={member.pk}"
    assert give in detail
    page = client.get(give)
    assert page.status_code == 200 and page.context["single"] == member
    response = client.post(give, {"template": template.pk, "reason": "发货延迟补偿"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"?member={member.pk}")
    coupon = IssuedCoupon.objects.for_org(org_a.org).get(member=member)
    assert coupon.source == "manual"
    assert coupon.history.get().reason == "发货延迟补偿"
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="coupon.issue").exists()
    # no reason: a form error; a retired coupon is not offered
    assert client.post(give, {"template": template.pk, "reason": ""}).status_code == 400
    coupons.template_retire(actor=org_a.actor(), template=template)
    refused = client.post(give, {"template": template.pk, "reason": "再来一张"})
    assert refused.status_code == 400
    assert IssuedCoupon.objects.for_org(org_a.org).count() == 1


def test_give_a_filtered_list_reports_issued_and_skipped_with_reasons(org_a):
    group, other = (
        CommunityFactory(organization=org_a.org),
        CommunityFactory(organization=org_a.org),
    )
    gold = VipTierFactory(organization=org_a.org)
    chosen = [_member(org_a.org, group) for _ in range(3)]
    for member in chosen:
        member.tier, member.tags = gold, ["复购"]
        member.save()
    _member(org_a.org, group)  # no tier
    _member(org_a.org, other, status="left")
    template = _template(org_a, quantity_limit=2)
    client = org_a.client_for(org_a.owner)
    target = f"{url(org_a.org, 'coupon-issue')}?community={group.pk}&tier={gold.pk}&tag=复购"
    page = client.get(target)
    assert page.context["count"] == 3
    assert page.context["form"].initial["expected"] == 3
    result = client.post(target, {"template": template.pk, "reason": "老客回馈", "expected": 3})
    assert result.status_code == 200
    assert result.context["issued"] == 2
    assert len(result.context["refused"]) == 1
    member, why = result.context["refused"][0]
    assert member in chosen and why == zh("All coupons of this kind have been given out.")
    assert 'data-testid="issue-skipped"' in result.content.decode()
    assert IssuedCoupon.objects.for_org(org_a.org).filter(member__in=chosen).count() == 2


def test_a_list_that_changed_since_it_was_shown_is_refused(org_a):
    group = CommunityFactory(organization=org_a.org)
    _member(org_a.org, group)
    template = _template(org_a)
    target = f"{url(org_a.org, 'coupon-issue')}?community={group.pk}"
    client = org_a.client_for(org_a.owner)
    response = client.post(target, {"template": template.pk, "reason": "回馈", "expected": 5})
    assert response.status_code == 400
    assert not IssuedCoupon.objects.for_org(org_a.org).exists()
    empty = f"{url(org_a.org, 'coupon-issue')}?tag=nobody"
    response = client.post(empty, {"template": template.pk, "reason": "回馈", "expected": 0})
    assert response.status_code == 400
    assert zh("No member matches these filters.") in response.content.decode()


def test_a_benefits_officer_gives_coupons_in_their_group_only(org_a):
    mine, theirs = (
        CommunityFactory(organization=org_a.org),
        CommunityFactory(organization=org_a.org),
    )
    officer = UserFactory()
    from tenancy.models import OrgMembership

    OrgMembership.objects.create(organization=org_a.org, user=officer, role="staff")
    StaffAssignment.objects.create(
        organization=org_a.org, community=mine, user=officer, role="benefits_officer"
    )
    template = _template(org_a)
    in_mine, in_theirs = _member(org_a.org, mine), _member(org_a.org, theirs)
    client = org_a.client_for(officer)
    page = client.get(url(org_a.org, "coupon-issue"))
    assert page.status_code == 200 and page.context["count"] == 1
    client.post(
        url(org_a.org, "coupon-issue"), {"template": template.pk, "reason": "活动", "expected": 1}
    )
    assert list(IssuedCoupon.objects.for_org(org_a.org).values_list("member", flat=True)) == [
        in_mine.pk
    ]
    # another group's member is not found; templates and settings are not theirs to change
    assert client.get(f"{url(org_a.org, 'coupon-issue')}?member={in_theirs.pk}").status_code == 404
    assert client.get(url(org_a.org, "coupon-create")).status_code == 403
    issued = client.get(url(org_a.org, "issued-coupons"))
    assert [c.member_id for c in issued.context["page"]] == [in_mine.pk]


# --- issued coupons ----------------------------------------------------------------------------


def test_issued_list_filters_and_history(org_a):
    first, second = (
        _template(org_a),
        _template(org_a, name="满200减30", value="30", valid_days=60),
    )
    alice, bob = _member(org_a.org), _member(org_a.org)
    a1 = coupons.coupon_issue(actor=org_a.actor(), template=first, member=alice, reason="补偿")
    coupons.coupon_issue(actor=org_a.actor(), template=second, member=bob, reason="活动")
    coupons.expire_coupons(org_a.org, now=a1.expires_at + timedelta(seconds=1))
    client = org_a.client_for(org_a.owner)
    base = url(org_a.org, "issued-coupons")

    def listed(query):
        response = client.get(base + query)
        assert response.status_code == 200
        return [c.pk for c in response.context["page"]]

    assert len(listed("")) == 2
    assert listed(f"?template={first.pk}") == [a1.pk]
    assert listed("?status=expired") == [a1.pk]
    assert listed(f"?member={bob.pk}") != [a1.pk] and len(listed(f"?member={bob.pk}")) == 1
    assert listed(f"?q={alice.display_name}") == [a1.pk]
    for junk in ("?template=abc", "?member=1e99", "?status=nope", "?page=x"):
        assert client.get(base + junk).status_code == 200
    history = client.get(url(org_a.org, "issued-coupon", pk=a1.pk))
    kinds = [e.kind for e in history.context["history"]]
    assert kinds == ["issued", "expired"]
    assert "补偿" in history.content.decode()


def test_another_organizations_coupons_are_404(org_a, org_b):
    theirs = _template(org_b)
    coupon = coupons.coupon_issue(
        actor=org_b.actor(), template=theirs, member=_member(org_b.org), reason="x"
    )
    their_member = _member(org_b.org)
    client = org_a.client_for(org_a.owner)
    assert client.get(url(org_a.org, "issued-coupon", pk=coupon.pk)).status_code == 404
    assert client.get(url(org_a.org, "coupon-edit", pk=theirs.pk)).status_code == 404
    assert client.post(url(org_a.org, "coupon-retire", pk=theirs.pk)).status_code == 404
    give = f"{url(org_a.org, 'coupon-issue')}?member={their_member.pk}"
    assert client.get(give).status_code == 404
    # their template cannot be chosen on our page
    mine = _member(org_a.org)
    response = client.post(
        f"{url(org_a.org, 'coupon-issue')}?member={mine.pk}", {"template": theirs.pk, "reason": "x"}
    )
    assert response.status_code == 400
    assert not IssuedCoupon.objects.for_org(org_a.org).exists()
    assert theirs.issued_count + 1 == CouponTemplate.objects.for_org(org_b.org).get().issued_count


# --- settings and perks ------------------------------------------------------------------------


def test_settings_choose_the_automatic_coupons_and_warn_of_a_retired_one(org_a):
    template = _template(org_a)
    client = org_a.client_for(org_a.owner)
    response = client.post(
        url(org_a.org, "coupon-settings"),
        {"newcomer_template": template.pk, "wake_up_template": "", "showcase_template": template.pk,
         "showcase_days": "5"},
    )  # fmt: skip
    assert response.status_code == 302
    current = coupons.settings_for(org_a.org)
    assert current.newcomer_template == template and current.wake_up_template is None
    assert current.showcase_days == 5
    bad = client.post(
        url(org_a.org, "coupon-settings"), {"showcase_days": "1", "newcomer_template": "999999"}
    )
    assert bad.status_code == 400 and {"showcase_days", "newcomer_template"} <= set(
        bad.context["form"].errors
    )
    coupons.template_retire(actor=org_a.actor(), template=template)
    page = client.get(url(org_a.org, "coupon-settings"))
    assert len(page.context["retired"]) == 2


def test_perks_created_and_turned_off(org_a):
    client = org_a.client_for(org_a.owner)
    bad = client.post(
        url(org_a.org, "coupon-perk-create"),
        {"name": "活跃立减", "active_within_days": "7", "percent_off": "0", "amount_off": ""},
    )
    assert bad.status_code == 400
    assert zh("Give a percentage or an amount off.") in bad.context["form"].errors["percent_off"]
    response = client.post(
        url(org_a.org, "coupon-perk-create"),
        {"name": "活跃立减", "active_within_days": "7", "amount_off": "10", "min_spend": "50"},
    )
    assert response.status_code == 302
    perk = SegmentPerk.objects.for_org(org_a.org).get()
    assert perk.amount_off == Decimal("10") and perk.percent_off == 0
    assert "活跃立减" in client.get(url(org_a.org, "coupon-settings")).content.decode()
    client.post(url(org_a.org, "coupon-perk-toggle", pk=perk.pk))
    perk.refresh_from_db()
    assert not perk.is_active
