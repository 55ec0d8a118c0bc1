"""CSV export and import of members: round trip, chunked background import with progress and a
per-row error report, idempotent re-imports, and clear refusals of bad files."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _

from communities import services as community_services
from members import csv_io, import_tasks, services
from members.models import ImportJob, Member, MemberIdentity
from tenancy.models import AuditLogEntry
from tenancy.services import api_key_create

from .conftest import ev

API = "/api/v1"
HEADER = "platform,external_user_id,display_name,name_card,tags,notes\n"


def _client(tenant, role="manager"):
    _, raw = api_key_create(actor=tenant.actor(), name=f"{role} bot", role=role)
    client = tenant.api_client(raw)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def run_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """Queued imports run in-process, eagerly, when the upload's transaction commits."""
    ran = []

    def delay(*args):
        ran.append(args)
        return import_tasks.run_import.apply(args=args)

    monkeypatch.setattr(import_tasks.run_import, "delay", delay)

    def upload(client, data: bytes, name="members.csv"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"{API}/members/import/", {"file": SimpleUploadedFile(name, data, "text/csv")}
            )
        return response

    upload.ran = ran
    return upload


def _export(client, query=""):
    response = client.get(f"{API}/members/export.csv{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="members-')
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    return body


def _rows(body: bytes):
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _people(org):
    """Everything an import reproduces, independent of ids: one entry per member."""
    people = set()
    members = Member.objects.for_org(org).prefetch_related("identities")
    for m in members:
        identities = tuple(sorted((i.platform, i.external_user_id) for i in m.identities.all()))
        people.add((identities, m.display_name, m.name_card, tuple(m.tags), m.notes))
    return people


def _job(org):
    return ImportJob.objects.for_org(org).latest("pk")


def _post_events(tenant, events):
    response = tenant.api_client().post(
        "/api/v1/events/", {"events": events}, content_type="application/json"
    )
    assert response.status_code == 200, response.content


# --- export → import ---------------------------------------------------------------------------


def test_export_import_round_trip_into_another_org(org_a, org_b, group, post, run_tasks):
    community_services.community_create(actor=org_a.actor(), name="VIP群", external_id="g2")
    post(
        [
            ev("member.joined", user="u1", display_name="小王", name_card="西安-小王-鱼油"),
            ev("member.joined", user="u1", community="g2", at=1),
            ev("member.joined", user="u2", at=2, display_name='=HYPERLINK("http://x")'),
            ev("member.joined", user="+8613800000000", at=3, display_name="李姐"),
            ev("member.joined", user="tg-9", community="g2", at=4, display_name="小王 TG"),
        ]
    )
    org = org_a.org
    owner = org_a.actor()
    u1 = Member.objects.for_org(org).get(identities__external_user_id="u1")
    services.member_update(
        actor=owner, member=u1, tags=["VIP", "宝妈"], notes="喜欢鱼油\n第二行, 含逗号"
    )
    services.identity_link(
        actor=owner,
        identity=MemberIdentity.objects.for_org(org).get(external_user_id="tg-9"),
        to_member=u1,
    )

    body = _export(_client(org_a))
    rows = _rows(body)
    assert list(rows[0].keys()) == csv_io.EXPORT_COLUMNS
    by_user = {r["external_user_id"]: r for r in rows}
    assert set(by_user["u1"]["groups"].split(";")) == {"VIP群", "健康交流1群"}
    assert by_user["u1"]["tags"] == "VIP;宝妈" and by_user["u1"]["id"] == by_user["tg-9"]["id"]
    assert by_user["u2"]["display_name"] == '\'=HYPERLINK("http://x")'  # no formula in Excel
    assert by_user["'+8613800000000"]["display_name"] == "李姐"

    upload = run_tasks(_client(org_b), body, name="从A导出.csv")
    assert upload.status_code == 202, upload.content
    accepted = upload.json()
    assert accepted["status"] == "queued" and accepted["total_rows"] == len(rows)
    assert len(run_tasks.ran) == 1 and run_tasks.ran[0][0] == org_b.org.pk

    job = _ok_job(_client(org_b), accepted["id"])
    assert job["status"] == "done" and job["percent"] == 100
    assert job["created_rows"] == 3 and job["updated_rows"] == 1  # u1 and tg-9: one person
    assert job["file_name"] == "从A导出.csv"
    # Linking merged tg-9's first member into u1: it is hidden, not exported as an empty row.
    assert job["failed_rows"] == 0 and not job["errors"]
    with_identities = {p for p in _people(org) if p[0]}
    assert len(with_identities) == 3 and _people(org_b.org) == with_identities

    # Importing the export back into the same org changes nothing and creates nothing.
    again = run_tasks(_client(org_a), body)
    assert again.status_code == 202
    assert (_job(org).created_rows, _job(org).updated_rows) == (0, len(rows))
    assert {p for p in _people(org) if p[0]} == with_identities
    assert Member.objects.for_org(org).count() == 4


def _ok_job(client, job_id):
    response = client.get(f"{API}/member-imports/{job_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def test_export_sees_what_the_key_sees_and_filters(org_a, org_b, group, post):
    post(
        [ev("member.joined", user="u1", display_name="小王"), ev("member.joined", user="u2", at=1)]
    )
    _post_events(org_b, [ev("member.joined", user="b1", display_name="ORG-B-MARKER")])
    services.member_update(
        actor=org_a.actor(),
        member=Member.objects.for_org(org_a.org).get(identities__external_user_id="u2"),
        tags=["VIP"],
    )
    manager = _client(org_a)
    assert {r["external_user_id"] for r in _rows(_export(manager))} == {"u1", "u2"}
    assert [r["external_user_id"] for r in _rows(_export(manager, "?tag=VIP"))] == ["u2"]
    assert b"ORG-B-MARKER" not in _export(manager)
    assert _rows(_export(_client(org_a, "analyst")))  # analysts may export
    assert _client(org_a, "staff").get(f"{API}/members/export.csv").status_code == 403
    bad = manager.get(f"{API}/members/export.csv?status=nope")
    assert bad.status_code == 400 and bad.json()["error"]["fields"].keys() == {"status"}
    # An Accept header asking for CSV is fine (the body is CSV either way).
    assert manager.get(f"{API}/members/export.csv", HTTP_ACCEPT="text/csv").status_code == 200


def test_export_reads_members_in_batches(org_a, group, post, monkeypatch):
    post([ev("member.joined", user=f"u{i}", at=i) for i in range(7)])
    monkeypatch.setattr(csv_io, "EXPORT_BATCH", 2)
    actor = org_a.actor()
    from members.selectors import visible_members, visible_memberships

    with CaptureQueriesContext(connection) as ctx:
        text = "".join(
            csv_io.export_rows(
                organization=org_a.org,
                members=visible_members(actor),
                memberships=visible_memberships(actor),
            )
        )
    assert len(_rows(text.encode())) == 7
    assert len(ctx.captured_queries) == 4 * 3  # 4 batches: members, identities, groups


def test_formula_escaping_round_trips():
    for text in ["=1+1", "+86 138", "-5", "@me", "\tx", "'=x", "''+y", "plain", "'quoted", "", "'"]:
        escaped = csv_io.escape_cell(text)
        assert csv_io.unescape_cell(escaped) == text
        assert escaped[:1] not in ("=", "+", "-", "@", "\t")


# --- chunks, progress, idempotence -------------------------------------------------------------


def _big_file(n):
    lines = [HEADER]
    for i in range(n):
        platform = "telegram" if i % 5 == 0 else "wechat"
        lines.append(f"{platform},user-{i},成员{i},西安-成员{i},VIP;宝妈,第{i}行\n")
    return "".join(lines).encode()


def test_large_import_runs_in_chunks_with_bounded_queries(org_a, monkeypatch):
    org = org_a.org
    job = csv_io.import_upload(
        actor=org_a.actor(), upload=SimpleUploadedFile("big.csv", _big_file(5000))
    )
    assert job.total_rows == 5000 and job.status == "queued"
    progress, queries_at = [], []
    real_chunk = csv_io.import_chunk

    def watched(*args, **kwargs):
        progress.append(ImportJob.objects.for_org(org).get(pk=job.pk).processed_rows)
        queries_at.append(len(ctx.captured_queries))
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(csv_io, "import_chunk", watched)
    with CaptureQueriesContext(connection) as ctx:
        result = csv_io.run_import(job)
    assert result == {"processed": 5000, "created": 5000, "updated": 0}
    assert progress == [0, 1000, 2000, 3000, 4000]  # committed chunk by chunk
    per_chunk = [b - a for a, b in zip(queries_at, queries_at[1:], strict=False)]
    assert max(per_chunk) <= 12, per_chunk  # constant per chunk, not per row
    assert len(ctx.captured_queries) <= 5 * 12 + 12
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_rows, job.percent) == (
        "done",
        5000,
        5000,
        100,
    )
    assert job.finished_at and Member.objects.for_org(org).count() == 5000
    assert MemberIdentity.objects.for_org(org).filter(platform="telegram").count() == 1000
    member = Member.objects.for_org(org).get(identities__external_user_id="user-42")
    assert (member.display_name, member.name_card, member.tags, member.notes) == (
        "成员42",
        "西安-成员42",
        ["VIP", "宝妈"],
        "第42行",
    )
    entry = AuditLogEntry.objects.for_org(org).get(action="member.import")
    assert entry.summary == _(
        "%(file)s: %(created)s created, %(updated)s updated, %(failed)s failed"
    ) % {
        "file": "big.csv",
        "created": 5000,
        "updated": 0,
        "failed": 0,
    }
    assert entry.actor_user == org_a.owner  # the uploader, not an anonymous system actor

    # The same file again: idempotent, nothing new, and no member row rewritten.
    monkeypatch.setattr(csv_io, "import_chunk", real_chunk)
    again = csv_io.import_upload(
        actor=org_a.actor(), upload=SimpleUploadedFile("big.csv", _big_file(5000))
    )
    with CaptureQueriesContext(connection) as ctx2:
        assert csv_io.run_import(again) == {"processed": 5000, "created": 0, "updated": 5000}
    assert not any(q["sql"].startswith('UPDATE "members_member"') for q in ctx2.captured_queries)
    assert Member.objects.for_org(org).count() == 5000
    assert MemberIdentity.objects.for_org(org).count() == 5000


def test_a_job_runs_once(org_a):
    job = csv_io.import_upload(
        actor=org_a.actor(), upload=SimpleUploadedFile("a.csv", _big_file(3))
    )
    assert csv_io.run_import(job) is not None
    job = ImportJob.objects.for_org(org_a.org).get(pk=job.pk)
    assert csv_io.run_import(job) is None  # claimed already: a second delivery does nothing
    assert Member.objects.for_org(org_a.org).count() == 3


def test_updates_existing_members_column_by_column(org_a, group, post):
    post([ev("member.joined", user="u1", display_name="小王", name_card="旧名片")])
    member = Member.objects.for_org(org_a.org).get()
    services.member_update(actor=org_a.actor(), member=member, tags=["旧"], notes="保留的备注")
    content = (
        "external_user_id,display_name,name_card,tags,extra\nu1,,新名片,新;VIP，宝妈,ignored\n"
    )
    job = csv_io.import_upload(
        actor=org_a.actor(), upload=SimpleUploadedFile("u.csv", content.encode())
    )
    csv_io.run_import(job)
    member.refresh_from_db()
    assert member.display_name == "小王"  # an empty name keeps the one we have
    assert member.name_card == "新名片"
    assert member.tags == ["新", "VIP", "宝妈"]
    assert member.notes == "保留的备注"  # no notes column: left alone
    assert (job.created_rows, job.updated_rows) == (0, 1)


# --- the error report --------------------------------------------------------------------------


def test_per_row_error_report(org_a, run_tasks):
    content = (
        HEADER
        + "wechat,ok-1,好人,,,\n"
        + "qq,bad-platform,,,,\n"
        + "wechat,,没有ID,,,\n"
        + f"wechat,long-name,{'长' * 121},,,\n"
        + "wechat,nul,a\x00b,,,\n"
        + f"wechat,bad-tag,,,{'t' * 31},\n"
        + ",,,,,\n"  # a blank row (spreadsheets leave them): skipped, not an error
        + "WeCom,ok-2,,,,\n"
    )
    client = _client(org_a)
    response = run_tasks(client, content.encode())
    assert response.status_code == 202, response.content
    job = _ok_job(client, response.json()["id"])
    assert job["status"] == "done"
    assert (job["total_rows"], job["created_rows"], job["failed_rows"]) == (7, 2, 5)
    report = {e["row"]: e for e in job["errors"]}
    assert set(report) == {3, 4, 5, 6, 7}
    assert (
        report[3]["errors"].keys() == {"platform"}
        and report[3]["external_user_id"] == "bad-platform"
    )
    assert "qq" in report[3]["errors"]["platform"][0]
    assert report[4]["errors"].keys() == {"external_user_id"}
    # The report is in the organization's language (the task has no request to ask).
    assert report[5]["errors"] == {"display_name": ["最多 120 个字符。"]}
    assert report[6]["errors"].keys() == {"display_name"}  # a NUL character
    assert report[7]["errors"].keys() == {"tags"}
    assert set(
        MemberIdentity.objects.for_org(org_a.org).values_list("platform", "external_user_id")
    ) == {
        ("wechat", "ok-1"),
        ("wecom", "ok-2"),
    }


def test_error_report_keeps_the_first_thousand_rows(org_a):
    content = HEADER + "".join(f"nope,u{i},,,,\n" for i in range(1200))
    job = csv_io.import_upload(
        actor=org_a.actor(), upload=SimpleUploadedFile("e.csv", content.encode())
    )
    csv_io.run_import(job)
    job.refresh_from_db()
    assert len(job.errors) == 1000 and job.errors[0]["row"] == 2
    assert job.processed_rows == 1200 and job.created_rows == job.updated_rows == 0


def test_a_failing_import_is_marked_failed(org_a, monkeypatch):
    job = csv_io.import_upload(
        actor=org_a.actor(), upload=SimpleUploadedFile("f.csv", _big_file(2500))
    )
    calls = []
    real_chunk = csv_io.import_chunk

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(csv_io, "import_chunk", flaky)
    result = import_tasks.run_import.apply(args=[org_a.org.pk, job.pk])
    assert result.failed()
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at
    assert job.processed_rows == 1000  # the first chunk committed; the second rolled back
    assert Member.objects.for_org(org_a.org).count() == 1000
    assert job.errors[-1]["row"] is None and "RuntimeError" in job.errors[-1]["errors"]["file"][0]
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="member.import").exists()


# --- refused uploads ---------------------------------------------------------------------------


def _refused(response, text):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert text in error["fields"]["file"][0], error
    return error


def test_bad_files_are_refused_with_a_clear_message(org_a, run_tasks, monkeypatch):
    client = _client(org_a)
    _refused(run_tasks(client, "platform,用户\n".encode("gbk")), "not UTF-8")
    _refused(run_tasks(client, b"wechat,u1,Wang\n"), "header")
    _refused(run_tasks(client, HEADER.encode()), "no rows")
    _refused(run_tasks(client, b"\n\n"), "empty")
    huge_cell = b"external_user_id,notes\nu1," + b"x" * 140_000 + b"\n"
    _refused(run_tasks(client, huge_cell), "not valid CSV")
    big = HEADER.encode() + b"wechat,u1,,,,\n" * (5 * 1024 * 1024 // 14 + 1)
    _refused(run_tasks(client, big), "5 MB")
    monkeypatch.setattr(csv_io, "MAX_ROWS", 10)
    _refused(run_tasks(client, _big_file(11)), "more than 10 rows")
    missing = client.post(f"{API}/members/import/", {})
    assert missing.status_code == 400 and "file" in missing.json()["error"]["fields"]
    as_json = client.post(f"{API}/members/import/", {"file": "x"}, content_type="application/json")
    assert as_json.status_code == 415
    assert not ImportJob.objects.for_org(org_a.org).exists()
    assert run_tasks.ran == []


def test_oversized_request_is_refused_before_reading_it(org_a):
    client = _client(org_a)
    response = client.post(
        f"{API}/members/import/",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(6 * 1024 * 1024),
    )
    _refused(response, "5 MB")


def test_bom_and_header_variants_are_accepted(org_a, run_tasks):
    content = "\ufeffExternal User ID,Display Name,Platform\r\nu1,小王,Telegram\r\n"
    response = run_tasks(_client(org_a), content.encode("utf-8"))
    assert response.status_code == 202, response.content
    identity = MemberIdentity.objects.for_org(org_a.org).select_related("member").get()
    assert (identity.platform, identity.external_user_id, identity.member.display_name) == (
        "telegram",
        "u1",
        "小王",
    )


def test_import_needs_member_edit_and_jobs_are_per_org(org_a, org_b, run_tasks):
    for role in ("analyst", "staff"):
        client = _client(org_a, role)
        assert run_tasks(client, _big_file(1)).status_code == 403
        assert client.get(f"{API}/member-imports/").status_code == 403
    manager = _client(org_a)
    job_id = run_tasks(manager, _big_file(2)).json()["id"]
    listed = manager.get(f"{API}/member-imports/").json()["results"]
    assert [j["id"] for j in listed] == [job_id] and "errors" not in listed[0]
    assert _client(org_b).get(f"{API}/member-imports/{job_id}/").status_code == 404
    queued = AuditLogEntry.objects.for_org(org_a.org).get(action="member.import_queued")
    done = AuditLogEntry.objects.for_org(org_a.org).get(action="member.import")
    assert queued.actor_api_key_id == done.actor_api_key_id is not None  # the uploading key
