"""Every field of the settings page saves, one at a time, through the page (issue: saving
每月活动预算 was an HTTP 500 because the audit writer could not store a Decimal)."""

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from tenancy import audit
from tenancy.forms import OrganizationSettingsForm
from tenancy.models import AuditLogEntry, Organization

# A new value for each field of the page, and how to read it back from the organization.
NEW_VALUES = {
    "name": ("新的名字", lambda org: org.name),
    "time_zone": ("Europe/Berlin", lambda org: org.time_zone),
    "default_language": ("en", lambda org: org.default_language),
    "sub_owner_community_limit": (7, lambda org: org.sub_owner_community_limit),
    "general_group_limit": (2, lambda org: org.group_limits["general"]),
    "category_group_limit": (3, lambda org: org.group_limits["category"]),
    "remove_blocked_on_join": (True, lambda org: org.remove_blocked_on_join),
    "abuse_words": ("骂人\n滚出去", lambda org: "\n".join(org.abuse_words)),
    "store_message_text": (True, lambda org: org.store_message_text),
    "raw_event_retention_months": (25, lambda org: org.raw_event_retention_months),
    "monthly_campaign_budget": (Decimal("500"), lambda org: org.monthly_campaign_budget),
    "require_post_approval": (True, lambda org: org.require_post_approval),
    "payment_instructions": (
        "转账到团长微信 qunyun_demo，备注订单号",
        lambda org: org.payment_instructions,
    ),
    "wake_up_holdout_percent": (25, lambda org: org.wake_up_holdout_percent),
}


def _post_data(values: dict) -> dict:
    data = {}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    return data


def test_the_table_covers_every_field_of_the_page():
    assert set(NEW_VALUES) == set(OrganizationSettingsForm.base_fields)


@pytest.mark.parametrize("field", sorted(NEW_VALUES))
def test_each_settings_field_saves_through_the_page(org_a, field):
    org = Organization.objects.get(pk=org_a.org.pk)
    initial = OrganizationSettingsForm.initial_from(org)
    value, read = NEW_VALUES[field]
    assert read(org) != value, "pick a value that differs from the default"
    client = org_a.client_for(org_a.owner)
    url = reverse("org-settings", kwargs={"org_slug": org.slug})

    response = client.post(url, _post_data({**initial, field: value}))

    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert read(org) == value
    entry = AuditLogEntry.objects.for_org(org).filter(action="org.update").latest("pk")
    json.dumps(entry.changes)  # stored as plain JSON
    page = client.get(reverse("audit-log", kwargs={"org_slug": org.slug}))
    assert page.status_code == 200


def test_the_budget_from_the_issue_saves_and_is_audited(org_a):
    org = org_a.org
    client = org_a.client_for(org_a.owner)
    url = reverse("org-settings", kwargs={"org_slug": org.slug})
    data = _post_data(
        {**OrganizationSettingsForm.initial_from(org), "monthly_campaign_budget": 500}
    )
    assert client.post(url, data).status_code == 302
    entry = AuditLogEntry.objects.for_org(org).get(action="org.update")
    assert entry.changes["monthly_campaign_budget"][1] == "500"
    # clearing it again is a change too
    data.pop("monthly_campaign_budget")
    assert client.post(url, data).status_code == 302
    org.refresh_from_db()
    assert org.monthly_campaign_budget is None


def test_audit_changes_take_any_value_a_model_field_holds(org_a):
    changes = {
        "amount": [Decimal("1.50"), Decimal("500")],
        "day": [datetime.date(2026, 1, 2), None],
        "at": [datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), None],
        "time": [datetime.time(8, 0), datetime.time(22, 30)],
        "hold": [datetime.timedelta(days=3), None],
        "token": [uuid.UUID(int=1), None],
        "kinds": [{"b", "a"}, ("x",)],
        "nested": {"limits": {"general": Decimal("1")}},
    }
    entry = audit.record(actor=org_a.actor(), action="org.update", changes=changes)
    entry.refresh_from_db()
    assert entry.changes["amount"] == ["1.50", "500"]
    assert entry.changes["day"] == ["2026-01-02", None]
    assert entry.changes["at"][0].startswith("2026-01-02T03:04:05")
    assert entry.changes["time"] == ["08:00:00", "22:30:00"]
    assert entry.changes["token"][0] == str(uuid.UUID(int=1))
    assert entry.changes["kinds"] == [["a", "b"], ["x"]]
    assert entry.changes["nested"] == {"limits": {"general": "1"}}
