import factory
from django.utils import timezone

from tenancy import tokens
from tenancy.models import ApiKey, AuditLogEntry, Invitation, Organization, OrgMembership, User
from tenancy.roles import OrgRole

TEST_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"组织 {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    time_zone = "Asia/Shanghai"
    default_language = "zh-hans"


class TenantFactory(factory.django.DjangoModelFactory):
    """Tenant rows are created through the unscoped path, organization given explicitly."""

    class Meta:
        abstract = True

    organization = factory.SubFactory(OrganizationFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create(*args, **kwargs)


class OrgMembershipFactory(TenantFactory):
    class Meta:
        model = OrgMembership

    user = factory.SubFactory(UserFactory)
    role = OrgRole.STAFF


class ApiKeyFactory(TenantFactory):
    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"bot {n}")
    role = OrgRole.MANAGER
    prefix = factory.Sequence(lambda n: f"qy_{n:08x}")
    key_hash = factory.LazyAttribute(lambda o: tokens.keyed_hash(f"{o.prefix}_secret"))


class InvitationFactory(TenantFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = OrgRole.STAFF
    token_hash = factory.Sequence(lambda n: tokens.keyed_hash(f"token-{n}"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))


class AuditLogEntryFactory(TenantFactory):
    class Meta:
        model = AuditLogEntry

    actor_label = "someone@example.com"
    action = "test.action"
    object_repr = factory.Sequence(lambda n: f"object-{n}")
    summary = "secret-of-the-org"


class CommunityFactory(TenantFactory):
    class Meta:
        model = "communities.Community"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"健康交流{n}群")
    kind = "general"
    platform = "wechat"
    external_id = factory.Sequence(lambda n: f"wx-group-{n}")

    @factory.post_generation
    def with_rules(obj, create, extracted, **kwargs):
        if create:
            from communities.models import CommunityRules

            CommunityRules.objects.create(organization=obj.organization, community=obj)


class StaffAssignmentFactory(TenantFactory):
    class Meta:
        model = "communities.StaffAssignment"

    community = factory.SubFactory(
        CommunityFactory, organization=factory.SelfAttribute("..organization")
    )
    user = factory.SubFactory(UserFactory)
    role = "deputy"


class VipTierFactory(TenantFactory):
    class Meta:
        model = "communities.VipTier"

    name = factory.Sequence(lambda n: f"等级{n}")
    rank = factory.Sequence(lambda n: n + 1)


class RedemptionItemFactory(TenantFactory):
    class Meta:
        model = "communities.RedemptionItem"

    name = "5元无门槛券"
    points_cost = 100


class MemberFactory(TenantFactory):
    class Meta:
        model = "members.Member"

    display_name = factory.Sequence(lambda n: f"成员{n}")


class MemberIdentityFactory(TenantFactory):
    class Meta:
        model = "members.MemberIdentity"

    member = factory.SubFactory(MemberFactory, organization=factory.SelfAttribute("..organization"))
    platform = "wechat"
    external_user_id = factory.Sequence(lambda n: f"wxid_{n}")


class MembershipFactory(TenantFactory):
    class Meta:
        model = "members.Membership"

    community = factory.SubFactory(
        CommunityFactory, organization=factory.SelfAttribute("..organization")
    )
    identity = factory.SubFactory(
        MemberIdentityFactory, organization=factory.SelfAttribute("..organization")
    )
    member = factory.SelfAttribute("identity.member")
    status = "active"


class WarningFactory(TenantFactory):
    class Meta:
        model = "members.Warning"

    membership = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    reason = "manual"
    detail = "ORG-MARKER warning"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=30))
    actor_label = "tests"


class BlockFactory(TenantFactory):
    class Meta:
        model = "members.Block"

    member = factory.SubFactory(MemberFactory, organization=factory.SelfAttribute("..organization"))
    reason = "ads"
    actor_label = "tests"


class WebhookEndpointFactory(TenantFactory):
    class Meta:
        model = "integrations.WebhookEndpoint"

    url = "http://127.0.0.1:9/hook"
    nonce = factory.Sequence(lambda n: f"nonce{n:08d}")
    secret_hint = "abc123"


def member_payload(text="hi", **extra) -> dict:
    """A payload addressed to a member, as the outbox's `member.*` kinds want it (the test
    supplies the rest of its kind's fields in `extra`)."""
    return {
        "community_external_id": "wx-group-test",
        "platform": "wechat",
        "user_external_id": "wxid_test",
        "display_name": "测试成员",
        "text": text,
        **extra,
    }


class ActionFactory(TenantFactory):
    class Meta:
        model = "integrations.Action"

    kind = "member.welcome"
    payload = factory.LazyFunction(lambda: member_payload("ORG-MARKER action"))


class WebhookDeliveryFactory(TenantFactory):
    class Meta:
        model = "integrations.WebhookDelivery"

    action = factory.SubFactory(ActionFactory, organization=factory.SelfAttribute("..organization"))
    endpoint = factory.SubFactory(
        WebhookEndpointFactory, organization=factory.SelfAttribute("..organization")
    )
    status = "retrying"


class ProductFactory(TenantFactory):
    class Meta:
        model = "campaigns.Product"

    name = "深海鱼油"
    price = 199


class CampaignFactory(TenantFactory):
    class Meta:
        model = "campaigns.Campaign"

    kind = "flash_sale"
    name = factory.Sequence(lambda n: f"ORG-MARKER 秒杀{n}")
    product = factory.SubFactory(
        ProductFactory, organization=factory.SelfAttribute("..organization")
    )
    starts_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=1))
    price = 99
    original_price = 199
    stock_total = 10
    stock_left = 10
    status = "scheduled"


class OrderFactory(TenantFactory):
    class Meta:
        model = "campaigns.Order"

    external_order_id = factory.Sequence(lambda n: f"ORG-MARKER-order-{n}")
    member = factory.SubFactory(MemberFactory, organization=factory.SelfAttribute("..organization"))
    amount = 99
    status = "pending_payment"


# --- member care (issue #8) --------------------------------------------------------------------


class CaseFactory(TenantFactory):
    class Meta:
        model = "care.Case"

    member = factory.SubFactory(MemberFactory, organization=factory.SelfAttribute("..organization"))
    community = factory.SubFactory(
        CommunityFactory, organization=factory.SelfAttribute("..organization")
    )
    kind = "complaint"
    subject = factory.Sequence(lambda n: f"ORG-MARKER 质量太差 {n}")
    source = "manual"
    opened_at = factory.LazyFunction(timezone.now)
    clock_started_at = factory.SelfAttribute("opened_at")
    first_response_due_at = factory.LazyAttribute(
        lambda o: o.opened_at + timezone.timedelta(minutes=10)
    )


class FollowUpRuleFactory(TenantFactory):
    class Meta:
        model = "care.FollowUpRule"

    name = factory.Sequence(lambda n: f"ORG-MARKER 收货回访 {n}")
    trigger = "bought"
    delay_hours = 0
    channel = "staff"
    message = "@{name} 你买的{items}用了吗？有没有什么问题？"
    active_since = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=30))


class FollowUpTaskFactory(TenantFactory):
    class Meta:
        model = "care.FollowUpTask"

    rule = factory.SubFactory(
        FollowUpRuleFactory, organization=factory.SelfAttribute("..organization")
    )
    order = factory.SubFactory(OrderFactory, organization=factory.SelfAttribute("..organization"))
    member = factory.SelfAttribute("order.member")
    community = factory.SubFactory(
        CommunityFactory, organization=factory.SelfAttribute("..organization")
    )
    channel = "staff"
    text = "ORG-MARKER follow-up"
    status = "open"
    due_at = factory.LazyFunction(timezone.now)


def make_poll(
    org, communities, *, kind="poll", choices=("红枣", "枸杞", "桂圆"), hours=24, **fields
):
    """A poll (one single-choice question) or survey (a choice and a written question) in
    these groups, open for `hours`, written directly (no announcement)."""
    from engagement.models import Choice, Poll, PollTarget, Question

    poll = Poll.objects.create(
        organization=org,
        kind=kind,
        title=fields.pop("title", "ORG-MARKER 下次团购选哪个？"),
        closes_at=timezone.now() + timezone.timedelta(hours=hours),
        **fields,
    )
    for community in communities:
        PollTarget.objects.create(organization=org, poll=poll, community=community)
    question = Question.objects.create(
        organization=org, poll=poll, position=1, text=poll.title, kind="single"
    )
    for n, text in enumerate(choices, start=1):
        Choice.objects.create(organization=org, question=question, poll=poll, position=n, text=text)
    if kind == "survey":
        Question.objects.create(
            organization=org, poll=poll, position=2, text="还想要什么？", kind="text"
        )
    return poll


class SuggestionFactory(TenantFactory):
    class Meta:
        model = "engagement.Suggestion"

    member = factory.SubFactory(MemberFactory, organization=factory.SelfAttribute("..organization"))
    text = factory.Sequence(lambda n: f"ORG-MARKER 建议多搞点秒杀 {n}")


# --- the team side: duties, goals, awards (issue 16) -----------------------------------------


class DutyFactory(TenantFactory):
    class Meta:
        model = "teamwork.Duty"

    title = factory.Sequence(lambda n: f"ORG-MARKER 每周互动 {n}")
    role = "topic_officer"
    measure = "manual"
    period = "week"
    quota = 3


class GoalFactory(TenantFactory):
    class Meta:
        model = "teamwork.Goal"

    figure = "members"
    target = 100
    baseline = 0
    starts_on = factory.LazyFunction(lambda: timezone.localdate())
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timezone.timedelta(days=30))


class AwardRoundFactory(TenantFactory):
    class Meta:
        model = "teamwork.AwardRound"

    month = factory.Sequence(
        lambda n: (timezone.localdate() - timezone.timedelta(days=31 * (n + 1))).replace(day=1)
    )


def live_group_buy(
    actor, group, *, price="79", original_price="99", stock=100, team_size=2, days=1, **fields
):
    """A group buy open since a minute ago for `days`, published without announcements (they
    would be in the past): through the service, as staff create one."""
    from datetime import timedelta
    from decimal import Decimal

    from campaigns import group_buys

    now = timezone.now()
    campaign = group_buys.group_buy_create(
        actor=actor,
        name=fields.pop("name", "两人拼团"),
        product_name=fields.pop("product_name", "纸尿裤"),
        price=Decimal(price),
        original_price=Decimal(original_price),
        stock=stock,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=days),
        communities=[group],
        team_size=team_size,
        team_hours=24,
        **fields,
    )
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    return campaign
