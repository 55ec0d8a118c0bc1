"""Every text the demo data puts in the outbox or plans in the content calendar reads right: no unresolved placeholder, no
sentence that stops at "：", no free lottery at ¥0.00."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from communities.models import ScheduledPost
from integrations.models import Action
from tenancy.system import system_db

TEXT_FIELDS = ("text", "rules_text", "announce")


# every demo organization's rows: read on the system role (tenancy/system.py)
@pytest.mark.django_db(transaction=True, databases=["default", "system"])
def test_every_demo_outbox_text_is_complete():
    call_command("seed_demo", stdout=StringIO())
    texts = [
        (action.kind, field, action.payload[field])
        for action in Action.objects.unscoped().using(system_db())
        for field in TEXT_FIELDS
        if action.payload.get(field)
    ]
    # posts planned in the content calendar (campaign previews among them) go out as they are
    texts += [
        ("post.publish", f"post {post.content_type}", post.text)
        for post in ScheduledPost.objects.unscoped().using(system_db())
    ]
    kinds = {kind for kind, _f, _t in texts}
    assert {
        "member.welcome",
        "member.remind",
        "member.warn",
        "member.notify",
        "post.publish",
    } <= kinds
    for kind, field, text in texts:
        where = f"{kind}.{field}: {text!r}"
        assert not re.search(r"\{\w+\}|%\(\w+\)", text), where
        assert not text.rstrip().endswith(("：", ":")), where
        assert "¥0.00" not in text, where
