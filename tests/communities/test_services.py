from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from communities import services
from communities.models import Community, CommunityRules, StaffAssignment, VipTier
from communities.rules import clean_rules, compile_name_card, render_text
from tenancy.models import AuditLogEntry


@pytest.fixture
def owner(org_a):
    return org_a.actor()


def _community(actor, **kw):
    return services.community_create(actor=actor, **{"name": "健康综合1群", **kw})


def test_create_community_with_rules_row_and_audit(owner, org_a):
    community = _community(owner, kind="general", external_id="wx-1", tags="养生, 白藜芦醇")
    assert community.tags == ["养生", "白藜芦醇"]
    assert CommunityRules.objects.for_org(org_a.org).filter(community=community).exists()
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="community.create").exists()


def test_duplicate_external_id_is_rejected_per_platform(owner, org_a, org_b):
    _community(owner, external_id="wx-1")
    with pytest.raises(ValidationError) as exc:
        _community(owner, name="另一个群", external_id="wx-1")
    assert "external_id" in exc.value.message_dict
    _community(owner, name="电报群", external_id="wx-1", platform="telegram")  # other platform
    services.community_create(actor=org_b.actor(), name="B", external_id="wx-1")  # other org
    assert Community.objects.for_org(org_a.org).count() == 2


def test_parent_must_be_same_org_and_no_loops(owner, org_a, org_b):
    parent = _community(owner)
    child = _community(owner, name="VIP群", kind="vip", parent=parent)
    with pytest.raises(ValidationError):
        services.community_update(actor=owner, community=parent, parent=child)
    other = services.community_create(actor=org_b.actor(), name="B群")
    with pytest.raises(ValidationError):
        _community(owner, name="x", parent=other)
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_bad_input_writes_nothing(owner, org_a):
    for bad in [{"name": ""}, {"capacity": 0}, {"kind": "nope"}, {"tags": ["x" * 31]}]:
        with pytest.raises(ValidationError):
            _community(owner, **bad)
    assert not Community.objects.for_org(org_a.org).exists()


def test_analyst_cannot_create(org_a):
    with pytest.raises(PermissionDenied):
        _community(org_a.actor(org_a.analyst))


def test_archive_and_restore(owner):
    community = _community(owner)
    services.community_set_archived(actor=owner, community=community, archived=True)
    assert community.is_archived and community.archived_at
    services.community_set_archived(actor=owner, community=community, archived=False)
    assert not community.is_archived


def test_bulk_tag_and_archive(owner, org_a):
    groups = [_community(owner, name=f"群{i}", tags=["a"]) for i in range(3)]
    assert (
        services.communities_bulk_tag(actor=owner, communities=groups, add=["新"], remove=["a"])
        == 3
    )
    assert {tuple(c.tags) for c in Community.objects.for_org(org_a.org)} == {("新",)}
    assert services.communities_bulk_archive(actor=owner, communities=groups) == 3


# --- rules -----------------------------------------------------------------------------------


def test_name_card_format_becomes_a_validator_with_an_example():
    card = compile_name_card("{city}-{name}-{product}")
    assert card.example == "西安-小王-白藜芦醇"
    assert card.matches("西安-小王-白藜芦醇")
    assert card.matches("北京-Lily-鱼油")
    assert not card.matches("小王")
    assert not card.matches("西安-小王")
    assert not card.matches("西安--鱼油")


@pytest.mark.parametrize(
    "fmt", ["", "no fields", "{city}{name}", "{city-{name}", "{city}-{city}", "{1x}"]
)
def test_bad_name_card_formats(fmt):
    with pytest.raises(ValidationError):
        compile_name_card(fmt)


def test_clean_rules_normalises_and_reports_each_bad_rule():
    cleaned = clean_rules(
        [
            {"kind": "no_flood", "params": {}},
            {
                "kind": "no_ads",
                "params": {"allowed_domains": "Example.com, shop.cn", "keywords": "代购"},
            },
        ]
    )
    assert cleaned[0]["params"] == {"max_consecutive": 5, "window_seconds": 60}
    assert cleaned[1]["params"]["allowed_domains"] == ["example.com", "shop.cn"]
    with pytest.raises(ValidationError) as exc:
        clean_rules([{"kind": "nope"}, {"kind": "name_card", "params": {"format": "bad"}}])
    assert len(exc.value.message_dict["rules"]) == 2


def test_template_render_and_copy_to_many(owner, org_a):
    source = _community(owner)
    services.rules_apply_template(actor=owner, community=source, template="health_food")
    rules = CommunityRules.objects.for_org(org_a.org).get(community=source)
    text = render_text(rules, "zh-hans")
    assert "健康" in text and "西安-小王-白藜芦醇" in text
    assert "Group rules" in render_text(rules, "en")
    targets = [_community(owner, name=f"目标{i}") for i in range(3)]
    assert services.rules_copy(actor=owner, source=source, targets=targets) == 3
    for target in targets:
        copied = CommunityRules.objects.for_org(org_a.org).get(community=target)
        assert copied.rules == rules.rules and copied.source_template == "health_food"


def test_rules_update_rejects_bad_rules_without_writing(owner, org_a):
    community = _community(owner)
    with pytest.raises(ValidationError):
        services.rules_update(
            actor=owner, community=community, intro_who="新介绍", rules=[{"kind": "bogus"}]
        )
    assert CommunityRules.objects.for_org(org_a.org).get(community=community).intro_who == ""


# --- staff -----------------------------------------------------------------------------------


def test_staff_assignment_gives_community_capabilities(owner, org_a):
    from tenancy.permissions import can

    mine, other = _community(owner), _community(owner, name="别的群")
    services.staff_assign(actor=owner, community=mine, user=org_a.deputy, role="deputy")
    deputy = org_a.actor(org_a.deputy)
    assert can(deputy, "member.warn", mine)
    assert not can(deputy, "member.warn", other)
    from communities.selectors import visible_communities

    assert list(visible_communities(deputy)) == [mine]
    assignment = StaffAssignment.objects.for_org(org_a.org).get(user=org_a.deputy)
    services.staff_unassign(actor=owner, assignment=assignment)
    assert list(visible_communities(org_a.actor(org_a.deputy))) == []
    assert StaffAssignment.objects.for_org(org_a.org).count() == 1  # history kept


def test_cannot_assign_someone_outside_the_org(owner, org_b):
    community = _community(owner)
    with pytest.raises(ValidationError):
        services.staff_assign(actor=owner, community=community, user=org_b.owner, role="deputy")


def test_sub_owner_over_the_limit_is_flagged(owner, org_a):
    from communities.selectors import staff_directory

    for i in range(5):
        services.staff_assign(
            actor=owner,
            community=_community(owner, name=f"g{i}"),
            user=org_a.deputy,
            role="sub_owner",
        )
    row = next(r for r in staff_directory(org_a.org) if r["user"] == org_a.deputy)
    assert row["sub_owner_count"] == 5 and row["over_limit"]


# --- tiers -----------------------------------------------------------------------------------


def _tier(actor, **kw):
    return services.tier_save(actor=actor, **kw)


def test_tiers_and_evaluation(owner, org_a):
    normal = _tier(owner, name="普通会员", rank=1)
    senior = _tier(owner, name="高级会员", rank=2, min_paid_orders=2, min_spend=Decimal("200"))
    vip = _tier(
        owner, name="VIP会员", rank=3, min_paid_orders=5, min_spend=Decimal("1000"), min_points=500
    )
    manual = _tier(owner, name="核心管理", rank=4, manual_only=True)
    tiers = [normal, senior, vip, manual]
    assert services.evaluate_tier(tiers) == normal
    assert services.evaluate_tier(tiers, paid_orders=3, spend=300) == senior
    assert services.evaluate_tier(tiers, paid_orders=9, spend=5000, points=600) == vip


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "手动", "rank": 5, "manual_only": True, "min_points": 10},  # manual + conditions
        {"name": "更高却更容易", "rank": 3, "min_paid_orders": 1},  # easier than rank 2
        {"name": "重复", "rank": 2},  # duplicate rank
        {"name": "高级会员", "rank": 9, "min_paid_orders": 50},  # duplicate name
        {"name": "x", "rank": 4, "discount_percent": 95},
    ],
)
def test_contradictory_tiers_are_rejected(owner, org_a, bad):
    _tier(owner, name="高级会员", rank=2, min_paid_orders=2)
    with pytest.raises(ValidationError):
        _tier(owner, **bad)
    assert VipTier.objects.for_org(org_a.org).count() == 1


def test_points_rules_defaults_and_update(owner, org_a):
    rules = services.points_rules_update(actor=owner, checkin=3)
    assert rules.repurchase_multiplier == Decimal("2") and rules.checkin == 3
    with pytest.raises(ValidationError):
        services.points_rules_update(actor=owner, repurchase_multiplier=Decimal("0.5"))
    rules.refresh_from_db()
    assert rules.repurchase_multiplier == Decimal("2")
