"""The operator's own wording of the bot's messages: checked on save, used by the composer (the
group's before the organization's before the built-in text), previewed live, never deleted."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from integrations import message_templates as service
from integrations.composer import TEMPLATES, MessageKind, compose
from integrations.models import Action, MessageTemplate
from tenancy.models import AuditLogEntry

from ..factories import CommunityFactory, MembershipFactory

WARN_CONTEXT = {"name": "小王", "detail": "广告", "warning": 1, "threshold": 2, "ads_group": ""}


def _save(tenant, text, key="warn", language="zh-hans", community=None, user=None):
    return service.template_save(
        actor=tenant.actor(user), key=key, language=language, text=text, community=community
    )


def _warn(org, community=None):
    community_id = community.pk if community else None
    return compose(
        MessageKind.WARN, WARN_CONTEXT, language="zh-hans", org=org, community_id=community_id
    )


def test_unknown_variable_is_a_clear_error():
    with pytest.raises(ValidationError) as exc:
        service.check_text("warn", "@{name} 请注意：{reason}")
    assert exc.value.message_dict == {
        "text": [
            "这条消息没有变量 {reason}。可用的变量：{name}、{detail}、{warning}、{threshold}、"
            "{ads_group}。"
        ]
    }


def test_missing_required_variable_is_a_clear_error():
    with pytest.raises(ValidationError) as exc:
        service.check_text("warn", "@{name} 请遵守群规。")
    assert exc.value.message_dict == {"text": ["请使用 {detail}：少了它，这条消息就说不清楚了。"]}


def test_empty_text_is_an_error():
    with pytest.raises(ValidationError):
        service.check_text("warn", "   ")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("key", sorted(service.editable_templates()))
def test_every_starter_is_a_valid_template_of_the_built_in_text(key, language):
    starter = service.starter_text(key, language)
    assert starter == service.check_text(key, starter)
    assert "900" not in starter, starter
    # filled with the example, the starter reads as the built-in text
    spec = TEMPLATES[key]
    example = {**spec.example, "ads_group": spec.example.get("ads_group", "")}
    with translation.override(language):
        rendered = service.render(starter, spec.values(example), spec.optional)
    assert rendered == compose(spec.kind, example, language=language)


def test_the_most_specific_wording_wins(org_a):
    org = org_a.org
    group, other = CommunityFactory(organization=org), CommunityFactory(organization=org)
    assert _warn(org, group) == "@小王，请遵守群规：广告。这是第 1 次警告（共 2 次）。"
    _save(org_a, "{name}，组织提醒：{detail}")
    assert _warn(org, group) == "小王，组织提醒：广告"
    _save(org_a, "{name}，本群提醒：{detail}（{warning}/{threshold}）", community=group)
    assert _warn(org, group) == "小王，本群提醒：广告（1/2）"
    assert _warn(org, other) == "小王，组织提醒：广告"
    assert _warn(org) == "小王，组织提醒：广告"
    # the other language is untouched
    english = compose(MessageKind.WARN, WARN_CONTEXT, language="en", org=org)
    assert english == "@小王, please follow the group rules: 广告. Warning 1 of 2."


def test_another_organizations_wording_is_never_used(org_a, org_b):
    _save(org_b, "B 的提醒：{detail}")
    assert _warn(org_a.org) == "@小王，请遵守群规：广告。这是第 1 次警告（共 2 次）。"


def test_an_empty_optional_variable_takes_its_sentence_with_it(org_a):
    _save(org_a, "{name}，请遵守群规：{detail}。广告请发到“{ads_group}”。")
    assert _warn(org_a.org) == "小王，请遵守群规：广告。"
    context = {**WARN_CONTEXT, "ads_group": "广告群"}
    text = compose(MessageKind.WARN, context, language="zh-hans", org=org_a.org)
    assert text == "小王，请遵守群规：广告。广告请发到“广告群”。"


def test_a_groups_own_welcome_on_its_rules_page_still_comes_first(org_a):
    _save(org_a, "欢迎来到 {community}，先看群公告哦", key="welcome")
    context = {"community": "1群", "custom": "本群自己的欢迎语"}
    assert compose(MessageKind.WELCOME, context, language="zh-hans", org=org_a.org) == (
        "本群自己的欢迎语"
    )
    context["custom"] = ""
    assert compose(MessageKind.WELCOME, context, language="zh-hans", org=org_a.org) == (
        "欢迎来到 1群，先看群公告哦"
    )


def test_saving_keeps_every_version_and_reset_deletes_nothing(org_a):
    org = org_a.org
    first = _save(org_a, "一：{detail}")
    second = _save(org_a, "二：{detail}")
    assert _save(org_a, "二：{detail}") == second  # the same text again changes nothing
    first.refresh_from_db()
    assert (first.is_active, second.is_active) == (False, True)
    assert first.retired_at is not None
    service.template_reset(actor=org_a.actor(), key="warn", language="zh-hans")
    assert _warn(org).startswith("@小王，请遵守群规")
    assert MessageTemplate.objects.for_org(org).count() == 2
    assert not MessageTemplate.objects.for_org(org).filter(is_active=True).exists()
    with pytest.raises(ValidationError):  # nothing left to reset
        service.template_reset(actor=org_a.actor(), key="warn", language="zh-hans")
    service.template_restore(actor=org_a.actor(), version=first)
    assert _warn(org) == "一：广告"
    actions = list(
        AuditLogEntry.objects.for_org(org)
        .filter(action__startswith="message_template.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "message_template.save",
        "message_template.save",
        "message_template.reset",
        "message_template.save",
    ]


def test_who_may_change_the_wording(org_a, org_b):
    group = CommunityFactory(organization=org_a.org)
    with pytest.raises(PermissionDenied):  # the organization's wording: org.manage (owner)
        _save(org_a, "{detail}", user=org_a.manager)
    _save(org_a, "{detail}", user=org_a.manager, community=group)  # community.manage
    with pytest.raises(PermissionDenied):
        _save(org_a, "{detail}", user=org_a.deputy, community=group)
    with pytest.raises(ValueError):  # a group of another organization
        _save(org_a, "{detail}", community=CommunityFactory(organization=org_b.org))
    with pytest.raises(ValueError):  # not a message the bot sends
        _save(org_a, "{name}", key="no_such_message")


def test_a_group_buy_result_uses_the_organizations_wording(org_a):
    from campaigns.group_buys import _tell
    from campaigns.models import CampaignTarget, Team, TeamMember

    from ..factories import CampaignFactory, OrderFactory

    _save(org_a, "「{name}」拼团成功啦", key="group_buy_filled")
    membership = MembershipFactory(organization=org_a.org)
    campaign = CampaignFactory(organization=org_a.org, kind="group_buy", team_size=2, name="拼团A")
    CampaignTarget.objects.create(
        organization=org_a.org, campaign=campaign, community=membership.community
    )
    from django.utils import timezone

    team = Team.objects.create(
        organization=org_a.org, campaign=campaign, leader=membership.member, deadline=timezone.now()
    )
    order = OrderFactory(organization=org_a.org, member=membership.member, campaign=campaign)
    TeamMember.objects.create(
        organization=org_a.org, campaign=campaign, team=team, member=membership.member, order=order
    )
    _tell(team, MessageKind.GROUP_BUY_FILLED)
    [notice] = Action.objects.for_org(org_a.org).filter(kind="member.notify")
    wording, link = notice.payload["text"].split("\n")
    assert wording == "「拼团A」拼团成功啦"
    assert link.startswith("你的专属页面：http")


def test_preview_uses_the_organizations_own_member_and_group(org_a):
    membership = MembershipFactory(organization=org_a.org)
    preview = service.preview(
        org_a.org, "warn", "zh-hans", "@{name} 请注意：{detail}", membership.community
    )
    name = membership.identity.display_name or membership.member.display_name
    assert preview["errors"] == []
    assert preview["text"] == f"@{name} 请注意：链接不在允许的域名范围内：spam.example"
    bad = service.preview(org_a.org, "warn", "zh-hans", "{nmae}", None)
    assert bad["text"] == "" and "{nmae}" in bad["errors"][0]


# --- the pages -----------------------------------------------------------------------------


def _edit_url(org, key="warn", language="zh-hans"):
    return reverse(
        "message-template-edit", kwargs={"org_slug": org.slug, "key": key, "language": language}
    )


def test_the_list_shows_every_message_with_its_built_in_text(org_a):
    response = org_a.client_for(org_a.owner).get(
        reverse("message-templates", kwargs={"org_slug": org_a.org.slug})
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "@小王，请遵守群规" in body
    assert _edit_url(org_a.org) in body
    assert "/lottery_won/" in body  # the campaign texts are editable too


def test_the_editor_saves_and_shows_errors_as_form_errors(org_a):
    client = org_a.client_for(org_a.owner)
    page = client.get(_edit_url(org_a.org))
    assert page.status_code == 200
    assert "{detail}" in page.content.decode()  # the built-in text as a starter
    bad = client.post(_edit_url(org_a.org), {"text": "请注意：{reason}"})
    assert bad.status_code == 400
    assert "这条消息没有变量 {reason}" in bad.content.decode()
    assert not MessageTemplate.objects.for_org(org_a.org).exists()
    good = client.post(_edit_url(org_a.org), {"text": "请注意：{detail}"})
    assert good.status_code == 302
    assert MessageTemplate.objects.for_org(org_a.org).get().text == "请注意：{detail}"


def test_live_preview_is_a_server_rendered_partial(org_a):
    url = reverse(
        "message-template-preview",
        kwargs={"org_slug": org_a.org.slug, "key": "warn", "language": "en"},
    )
    client = org_a.client_for(org_a.owner)
    response = client.post(url, {"text": "Careful, {name}: {detail}"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Careful, 小王: link not on the allow-list: spam.example" in body
    assert "<script" not in body and "<html" not in body
    assert client.get(url).status_code == 405


def test_unknown_message_or_language_is_404(org_a):
    client = org_a.client_for(org_a.owner)
    assert client.get(_edit_url(org_a.org, key="nope")).status_code == 404
    assert client.get(_edit_url(org_a.org, language="fr")).status_code == 404


def test_group_pages_need_community_manage(org_a):
    group = CommunityFactory(organization=org_a.org)
    url = reverse(
        "community-message-edit",
        kwargs={"org_slug": org_a.org.slug, "pk": group.pk, "key": "warn", "language": "zh-hans"},
    )
    assert org_a.client_for(org_a.manager).get(url).status_code == 200
    assert org_a.client_for(org_a.analyst).get(url).status_code in (403, 404)
    assert org_a.client_for(org_a.manager).get(_edit_url(org_a.org)).status_code == 403
    response = org_a.client_for(org_a.manager).post(url, {"text": "本群：{detail}"})
    assert response.status_code == 302
    assert MessageTemplate.objects.for_org(org_a.org).get().community == group


def test_another_organizations_version_is_404(org_a, org_b):
    version = _save(org_b, "B：{detail}")
    url = reverse(
        "message-template-restore",
        kwargs={
            "org_slug": org_a.org.slug,
            "key": "warn",
            "language": "zh-hans",
            "version": version.pk,
        },
    )
    assert org_a.client_for(org_a.owner).post(url).status_code == 404


def test_tier_conditions_read_as_words_in_a_saved_wording(org_a):
    _save(org_a, "{group} 仅限 {tier}。升级条件：{conditions}。", key="entry_below_tier")
    context = {"name": "小王", "group": "金卡群", "tier": "金卡", "conditions": {}}
    compose_ = compose(MessageKind.ENTRY_BELOW_TIER, context, language="zh-hans", org=org_a.org)
    assert compose_ == "金卡群 仅限 金卡。"
    context["conditions"] = {"min_spend": Decimal("500")}
    compose_ = compose(MessageKind.ENTRY_BELOW_TIER, context, language="zh-hans", org=org_a.org)
    assert compose_ == "金卡群 仅限 金卡。升级条件：消费满 ¥500。"


def test_a_campaign_announcement_uses_the_organizations_wording(org_a):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from campaigns import services as campaign_services
    from communities.models import ScheduledPost

    _save(org_a, "{when} 开抢：{name} 只要 ¥{price}！", key="campaign_start_flash_sale")
    group = MembershipFactory(organization=org_a.org).community
    now = timezone.now()
    sale = campaign_services.flash_sale_create(
        actor=org_a.actor(),
        name="周五秒杀",
        product_name="鱼油",
        price=Decimal("9.9"),
        original_price=Decimal("19.9"),
        stock=10,
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=1),
        communities=[group],
    )
    campaign_services.campaign_publish(actor=org_a.actor(), campaign=sale)
    start = ScheduledPost.objects.for_org(org_a.org).get(scheduled_at=sale.starts_at)
    first_line = start.text.splitlines()[0]
    assert first_line.endswith("开抢：周五秒杀 只要 ¥9.90！"), first_line
    assert start.text.splitlines()[1].startswith("详情和参与：http")
