"""The bot's warnings use the operator's own wording (integrations.message_templates)."""

import pytest

from integrations import message_templates
from integrations.models import Action

from .conftest import ev


@pytest.mark.time_machine("2026-11-20 12:00:00+00:00", tick=False)
def test_a_warning_from_the_bot_uses_the_groups_wording(org_a, group, post):
    message_templates.template_save(
        actor=org_a.actor(),
        key="warn",
        language="zh-hans",
        text="@{name} 第 {warning} 次提醒：{detail}",
        community=group,
    )
    post([ev("member.joined", display_name="小王")])
    post([ev("message.posted", at=1, text="加微信 领红包")])
    [warning] = Action.objects.for_org(org_a.org).filter(kind="member.warn")
    assert warning.payload["text"] == "@小王 第 1 次提醒：含广告关键词“加微信”"
