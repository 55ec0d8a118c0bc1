"""Every dashboard page, as the demo's owner and as its deputy, in zh-hans: no HTTP 500, no
code on screen (a dotted action like care.case_closed, a snake_case flag like below_tier, a
model's "object (22)" or a None), no number with more than two decimals, no rate above 100%.

Text a person reads is checked: the page's text and its title, placeholder, aria-label and alt
attributes. What is deliberately literal stays out: <code>, <pre>, <kbd>, <samp> (a header
name to send, a CSV column to write), what a <textarea> holds (a message template with its
{variables}), and the data people typed or bots sent (ids on a chat platform, order numbers,
email addresses, web addresses)."""

import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client

from ..dashboard_pages import dashboard_pages

OWNER = "owner@demo.qunyun.cn"
DEPUTY = "deputy@demo.qunyun.cn"

LITERAL_TAGS = {"code", "pre", "kbd", "samp", "script", "style", "template", "textarea"}
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

DOTTED_CODE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.[a-z][a-z0-9_]*(?![\w.@/-])")
SNAKE_CODE = re.compile(r"(?<![\w@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:[:][a-z0-9_]+)?(?![\w@/-])")
GENERIC_OBJECT = re.compile(r"\b\w+ object \(\d+\)")
NONE = re.compile(r"(?<![\w-])None(?![\w-])")
LONG_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{3,}(?![\d.])")
PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*%")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
WEB_ADDRESS = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|net|org|io|example)\b"
)


class _ReadableText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.literal = 0

    def handle_starttag(self, tag, attrs):
        if tag in LITERAL_TAGS:
            self.literal += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and not self.literal:
                self.parts.append(value)

    def handle_startendtag(self, tag, attrs):
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and not self.literal:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in LITERAL_TAGS and self.literal:
            self.literal -= 1

    def handle_data(self, data):
        if not self.literal:
            self.parts.append(data)


def readable_text(html: str) -> str:
    parser = _ReadableText()
    parser.feed(html)
    return "\n".join(p.strip() for p in parser.parts if p.strip())


def _data_values(org) -> list[str]:
    """What people typed or bots sent, which may look like a code but is data."""
    from campaigns.models import Order
    from communities.models import Community
    from members.models import ImportJob, MemberIdentity
    from tenancy.models import ApiKey

    values = set(MemberIdentity.objects.for_org(org).values_list("external_user_id", flat=True))
    values |= set(Community.objects.for_org(org).values_list("external_id", flat=True))
    values |= set(Order.objects.for_org(org).values_list("external_order_id", flat=True))
    values |= set(ApiKey.objects.for_org(org).values_list("prefix", flat=True))
    values |= set(ImportJob.objects.for_org(org).values_list("file_name", flat=True))
    return sorted((v for v in values if v), key=len, reverse=True)


def problems_in(text: str, data_values) -> list[str]:
    found = []
    for pattern, what in ((GENERIC_OBJECT, "object repr"), (NONE, "None")):
        found += [f"{what}: {m.group(0)!r}" for m in pattern.finditer(text)]
    text = EMAIL.sub(" ", text)
    text = WEB_ADDRESS.sub(" ", text)
    for value in data_values:
        text = text.replace(value, " ")
    found += [f"dotted code: {m.group(0)!r}" for m in DOTTED_CODE.finditer(text)]
    found += [f"snake_case code: {m.group(0)!r}" for m in SNAKE_CODE.finditer(text)]
    found += [f"more than 2 decimals: {m.group(0)!r}" for m in LONG_DECIMAL.finditer(text)]
    found += [
        f"rate over 100%: {m.group(0)!r}" for m in PERCENT.finditer(text) if float(m.group(1)) > 100
    ]
    return found


def test_the_checker_catches_what_the_issue_saw():
    seen = (
        "care.case_closed metrics.commission_ladder below_tier too_many_groups:general "
        "ScheduledPost object (22) 384.029618 +144.02961800000003 活跃度 111.0%"
    )
    found = " ".join(problems_in(seen, []))
    for code in ("care.case_closed", "metrics.commission_ladder", "below_tier",
                 "too_many_groups:general", "object (22)", "384.029618", "111.0%"):  # fmt: skip
        assert code in found, code
    fine = "owner@demo.qunyun.cn https://example.com/share 链接：spam.example 42.5% ¥1,045.00 100%"
    assert problems_in(fine, []) == []
    assert problems_in("微信 · wxid_demo_000", ["wxid_demo_000"]) == []


@pytest.mark.django_db
def test_every_dashboard_page_reads_as_words_for_the_owner_and_the_deputy():
    from tenancy.models import Organization, User

    call_command("seed_demo", stdout=__import__("io").StringIO())
    org = Organization.objects.get(slug="jiankang")
    deputy = User.objects.get(email=DEPUTY)
    pages = dashboard_pages(org, deputy)
    data_values = _data_values(org)
    failures = []
    for email in (OWNER, DEPUTY):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(User.objects.get(email=email))
        for name, path in pages:
            response = client.get(path)
            if response.status_code >= 500:
                failures.append(f"{email} {path}: HTTP {response.status_code}")
                continue
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            text = readable_text(response.content.decode())
            failures += [f"{email} {path} ({name}): {p}" for p in problems_in(text, data_values)]
    assert not failures, "\n".join(failures[:60])
