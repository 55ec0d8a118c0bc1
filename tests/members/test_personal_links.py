"""Personal links reach members: privately on a keyword, at the end of wake-ups, and the link
the bot sends works on the member's phone."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from integrations.models import Action
from members import jobs

from .conftest import T0, ev

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://\S+/m/org-a/l/([\w-]+)/")


@pytest.mark.time_machine(T0 + timedelta(minutes=5), tick=False)
def test_the_keyword_brings_a_personal_link_in_a_private_message(org_a, group, post):
    post([ev("member.joined"), ev("message.posted", at=1, text="我的")])
    notify = Action.objects.for_org(org_a.org).get(kind="member.notify")
    assert notify.payload["user_external_id"] == "u1"
    token = LINK.search(notify.payload["text"]).group(1)
    assert "只能打开一次" in notify.payload["text"]
    assert not Action.objects.for_org(org_a.org).filter(kind="member.reply").exists()
    client = Client()
    opened = client.get(f"/m/org-a/l/{token}/")
    assert opened["Location"] == "/m/org-a/me/"
    assert client.get("/m/org-a/me/").status_code == 200


@pytest.mark.time_machine(T0 + timedelta(minutes=5), tick=False)
def test_other_words_bring_no_link(org_a, group, post):
    post([ev("member.joined"), ev("message.posted", at=1, text="我的快递到了吗")])
    assert not Action.objects.for_org(org_a.org).filter(kind="member.notify").exists()


@pytest.mark.time_machine(T0 + timedelta(days=34), tick=False)
def test_a_wake_up_ends_with_the_members_link(org_a, group, post):
    post([ev("member.joined"), ev("message.posted", at=1)])
    org_a.org.wake_up_holdout_percent = 0  # never the one held out of the wake-up
    org_a.org.save(update_fields=["wake_up_holdout_percent"])
    now = T0 + timedelta(days=15)
    jobs.mark_dormant(org_a.org, now=now)
    jobs.send_reminders(org_a.org, now=now)
    remind = Action.objects.for_org(org_a.org).get(kind="member.remind")
    last_line = remind.payload["text"].splitlines()[-1]
    assert last_line.startswith("你的专属页面：http://")
    token = LINK.search(last_line).group(1)
    assert Client().get(f"/m/org-a/l/{token}/")["Location"] == "/m/org-a/me/"
