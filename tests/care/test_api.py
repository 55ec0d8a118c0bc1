"""The care API: open, list by queue, step, comment, assign, follow-ups."""

import pytest

from care.models import Case
from tests.factories import CaseFactory, FollowUpTaskFactory


@pytest.fixture
def api(org_a):
    return org_a.api_client()


def test_open_step_and_comment_through_the_api(org_a, group, member_in, api):
    member = member_in(group)
    response = api.post(
        "/api/v1/care/cases/",
        {"member": member.pk, "community": group.pk, "kind": "complaint", "subject": "破损"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "api" and body["assignee"] == org_a.deputy.pk
    assert body["timeline"][0]["kind"] == "opened"
    url = f"/api/v1/care/cases/{body['id']}/"
    skipped = api.post(url + "step/", {"step": "closed"}, content_type="application/json")
    assert skipped.status_code == 409 and "step" in skipped.json()["error"]["fields"]
    for step in ["responded", "acknowledged"]:
        moved = api.post(url + "step/", {"step": step}, content_type="application/json")
        assert moved.status_code == 200, moved.content
    no_resolution = api.post(url + "step/", {"step": "resolved"}, content_type="application/json")
    assert no_resolution.status_code == 400
    resolved = api.post(
        url + "step/",
        {"step": "resolved", "resolution": "replacement", "reply": "马上给你补发一份"},
        content_type="application/json",
    )
    assert resolved.json()["status"] == "resolved"
    comment = api.post(url + "comment/", {"text": "已补发"}, content_type="application/json")
    assert comment.json()["timeline"][-1]["text"] == "已补发"
    assert api.get(url).json()["resolution"] == "replacement"


def test_lists_by_queue(org_a, group, api):
    from django.utils import timezone

    late = CaseFactory(
        organization=org_a.org,
        community=group,
        first_response_due_at=timezone.now() - timezone.timedelta(minutes=1),
    )
    CaseFactory(organization=org_a.org, community=group, assignee=org_a.deputy)
    ids = lambda q: [c["id"] for c in api.get(f"/api/v1/care/cases/?queue={q}").json()["results"]]  # noqa: E731
    assert ids("overdue") == [late.pk]
    assert ids("unassigned") == [late.pk]
    assert len(ids("open")) == 2 and ids("closed") == []


def test_duplicate_open_complaint_is_a_409(org_a, group, member_in, api):
    member = member_in(group)
    data = {"member": member.pk, "community": group.pk, "kind": "complaint", "subject": "x"}
    assert api.post("/api/v1/care/cases/", data, content_type="application/json").status_code == 201
    again = api.post("/api/v1/care/cases/", data, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_another_orgs_ids_do_not_exist(org_a, org_b, group, api):
    other_member = CaseFactory(organization=org_b.org).member
    response = api.post(
        "/api/v1/care/cases/",
        {"member": other_member.pk, "kind": "complaint", "subject": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "member" in response.json()["error"]["fields"]
    assert not Case.objects.for_org(org_a.org).exists()


def test_analyst_key_reads_but_may_not_act(org_a, group):
    from tenancy.services import api_key_create

    _key, raw = api_key_create(actor=org_a.actor(), name="analyst", role="analyst")
    client = org_a.api_client(raw)
    case = CaseFactory(organization=org_a.org, community=group)
    assert client.get(f"/api/v1/care/cases/{case.pk}/").status_code == 200
    step = client.post(
        f"/api/v1/care/cases/{case.pk}/step/",
        {"step": "responded"},
        content_type="application/json",
    )
    assert step.status_code == 403


def test_follow_ups_list_and_finish(org_a, group, api):
    task = FollowUpTaskFactory(organization=org_a.org, community=group)
    listed = api.get("/api/v1/care/follow-ups/?status=open").json()["results"]
    assert [t["id"] for t in listed] == [task.pk]
    done = api.post(
        f"/api/v1/care/follow-ups/{task.pk}/finish/",
        {"outcome": "done", "note": "很满意"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_reopen_through_the_api(org_a, group, api):
    case = CaseFactory(organization=org_a.org, community=group, assignee=org_a.deputy)
    url = f"/api/v1/care/cases/{case.pk}/"
    early = api.post(url + "reopen/", {"reason": "又坏了"}, content_type="application/json")
    assert early.status_code == 409
    for step in ["responded", "acknowledged", "resolved"]:
        data = {"step": step, "resolution": "replacement"}
        assert api.post(url + "step/", data, content_type="application/json").status_code == 200
    missing = api.post(url + "reopen/", {}, content_type="application/json")
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"]
    reopened = api.post(url + "reopen/", {"reason": "又坏了"}, content_type="application/json")
    assert reopened.status_code == 200, reopened.content
    body = reopened.json()
    assert body["status"] == "acknowledged" and body["reopen_count"] == 1
    assert body["timeline"][-1]["kind"] == "reopened"
