"""CSV export and import of members.

Export: `export_rows(...)` yields the CSV text in pieces for a StreamingHttpResponse. It starts
with a UTF-8 byte-order mark (Excel then reads Chinese correctly), writes one row per platform
identity (a member without one gets one row with the identity columns empty) and reads members in
batches of 1,000 by id: three queries a batch, whatever the size of the organization.

Import: `import_upload(...)` checks the file (at most 5 MB, UTF-8 with or without a BOM, a header
row naming at least `external_user_id`), stores it as an `ImportJob` and queues
`members.import_tasks.run_import` when the transaction commits. `run_import(job)` then works
through the rows in chunks of 1,000, each chunk in its own transaction (a big file is never one
giant transaction, and a progress bar can poll `processed_rows`), with a constant number of
queries a chunk: one read of the identities the chunk names, bulk inserts of the new members and
identities, one bulk update of the members that changed.

- Rows are matched on (platform, external_user_id), as the event stream does: a known identity
  updates its member, an unknown one creates a member. Re-running a file creates nothing twice.
- A column left out of the file leaves that field alone; an empty cell clears it, except
  `display_name`, where an empty cell keeps the name already known. `tags` are separated by
  `;` (also `；`, `,` or `，`). `platform` defaults to wechat. Unknown columns are ignored.
- Rows that share an `id` (the column the export writes) are one person: an identity that is new
  joins the member of the other rows, so an export of linked identities imports as one member.
  Identities that already exist are never moved (that is `POST /members/{id}/link/`).
- A row that does not validate (unknown platform, no user id, a value too long, a NUL character,
  bad tags) is skipped and reported in `job.errors` with its row number (the header is row 1);
  the report keeps the first 1,000 such rows, `processed - created - updated` counts them all.
- Cells a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return)
  are exported behind an apostrophe, and the import takes it off again: a chat nickname such as
  `=HYPERLINK(...)` cannot attack whoever opens the export, and a round trip keeps the text.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import partial
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.services import clean_tags
from integrations.platforms import Platform
from tenancy import audit
from tenancy.actors import Actor
from tenancy.models import AuditLogEntry, OrgMembership
from tenancy.permissions import require

from .models import PRESENT_STATUSES, ImportJob, Member, MemberIdentity

EXPORT_COLUMNS = [
    "id",
    "display_name",
    "name_card",
    "platform",
    "external_user_id",
    "tier",
    "points_balance",
    "tags",
    "notes",
    "groups",
]
IMPORT_COLUMNS = ["platform", "external_user_id", "display_name", "name_card", "tags", "notes"]
MEMBER_FIELDS = ["display_name", "name_card", "tags", "notes"]
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
CHUNK_SIZE = 1_000
EXPORT_BATCH = 1_000
MAX_ERROR_ROWS = 1_000
MAX_LENGTHS = {"external_user_id": 128, "display_name": 120, "name_card": 120, "notes": 5000}
TAG_SEPARATORS = re.compile(r"[;；,，]")
# PostgreSQL text cannot hold NUL: the stored file has U+FFFD in its place (and rows with either
# are reported, never imported).
NUL_MARK = "\ufffd"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUEUED_ACTION = "member.import_queued"
DONE_ACTION = "member.import"


# --- formula-safe cells ----------------------------------------------------------------------


def _needs_escape(text: str) -> bool:
    return text.lstrip("'")[:1] in FORMULA_START  # "" (nothing after the quotes) is not in it


def escape_cell(text: str) -> str:
    """What the export writes: a leading apostrophe in front of anything formula-like."""
    return "'" + text if _needs_escape(text) else text


def unescape_cell(text: str) -> str:
    """What the import reads: `escape_cell` undone (and nothing else touched)."""
    return text[1:] if text.startswith("'") and _needs_escape(text[1:]) else text


# --- export ----------------------------------------------------------------------------------


class _Line:
    """A file for csv.writer that hands back what is written, so `writerow` returns the line."""

    def write(self, value):
        return value


def export_filename(organization) -> str:
    today = timezone.now().astimezone(organization.tzinfo).date()
    return f"members-{organization.slug}-{today:%Y%m%d}.csv"


def export_rows(*, organization, members, memberships):
    """The CSV of `members` (a queryset the caller has scoped and filtered), with the groups each
    is in taken from `memberships` (the memberships the actor may see). Yields text pieces."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
    identities = MemberIdentity.objects.for_org(organization).order_by("pk")
    groups = (
        memberships.filter(status__in=PRESENT_STATUSES)
        .select_related("community")
        .order_by("community__name", "pk")
    )
    last = 0
    while True:
        batch = list(
            members.filter(pk__gt=last)
            .order_by("pk")
            .select_related("tier")
            .prefetch_related(
                Prefetch("identities", queryset=identities, to_attr="export_identities"),
                Prefetch("memberships", queryset=groups, to_attr="export_groups"),
            )[:EXPORT_BATCH]
        )
        if not batch:
            return
        lines = []
        for member in batch:
            group_names = dict.fromkeys(m.community.name for m in member.export_groups)
            for identity in member.export_identities or [None]:
                lines.append(
                    writer.writerow(
                        [
                            member.pk,
                            escape_cell(member.display_name),
                            escape_cell(member.name_card),
                            identity.platform if identity else "",
                            escape_cell(identity.external_user_id) if identity else "",
                            escape_cell(member.tier.name) if member.tier else "",
                            member.points_balance,
                            escape_cell(";".join(str(t) for t in member.tags or [])),
                            escape_cell(member.notes),
                            escape_cell(";".join(group_names)),
                        ]
                    )
                )
        yield "".join(lines)
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].pk


# --- reading a file --------------------------------------------------------------------------


def _file_error(message) -> ValidationError:
    return ValidationError({"file": [message]})


def _not_blank(cells) -> bool:
    return any(cell.strip() for cell in cells)


def _normalise(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def parse(text: str):
    """({column name: index}, iterator of (row number, cells)) of a CSV's text. The header is
    the first non-blank row; blank rows are skipped but counted, so row numbers are those a
    spreadsheet shows. Raises ValidationError({"file": ...}) without a usable header."""
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    header = None
    for cells in reader:
        number += 1
        if _not_blank(cells):
            header = cells
            break
    if header is None:
        raise _file_error(_("The file is empty."))
    columns: dict = {}
    for index, name in enumerate(header):
        columns.setdefault(_normalise(name), index)
    if "external_user_id" not in columns:
        raise _file_error(
            _(
                "The first row must be a header naming the columns, with at least "
                "“external_user_id”. Known columns: %(columns)s."
            )
            % {"columns": ", ".join(IMPORT_COLUMNS)}
        )

    def rows(number=number):
        for cells in reader:
            number += 1
            if _not_blank(cells):
                yield number, cells

    return columns, rows()


def too_big_message() -> str:
    return _("The file is larger than 5 MB. Split it into smaller files.")


def read_upload(upload) -> tuple[str, int]:
    """The text of an uploaded CSV and its number of data rows; ValidationError({"file": …})
    with a message a person can act on when it is too big, not UTF-8 or has no header."""
    too_big = too_big_message()
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise _file_error(too_big)
    raw = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _file_error(too_big)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(
            _(
                "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (comma "
                "delimited)”; in WPS or Numbers, export CSV with UTF-8 encoding."
            )
        ) from None
    columns, rows = parse(text)
    total = 0
    try:
        for total, _row in enumerate(rows, start=1):  # noqa: B007 -- counting
            if total > MAX_ROWS:
                raise _file_error(
                    _("The file has more than %(n)s rows. Split it into smaller files.")
                    % {"n": f"{MAX_ROWS:,}"}
                )
    except csv.Error as exc:
        raise _file_error(
            _("The file is not valid CSV (after row %(row)s): %(error)s")
            % {"row": total + 1, "error": exc}
        ) from None
    if total == 0:
        raise _file_error(_("The file has a header but no rows."))
    return text, total


# --- one row ---------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    platform: str
    external_user_id: str
    values: dict = field(default_factory=dict)  # the member fields the file has columns for
    group: str = ""  # the `id` column: rows that share it are one person

    @property
    def key(self):
        return (self.platform, self.external_user_id)


def clean_row(columns: dict, number: int, cells: list) -> tuple[Row | None, dict]:
    """A Row, or None with {column: [messages]}."""

    def cell(name):
        index = columns.get(name)
        if index is None:
            return None  # no such column: leave the field alone
        return unescape_cell(cells[index].strip()) if index < len(cells) else ""

    errors: dict = {}
    raw = {name: cell(name) for name in IMPORT_COLUMNS}
    for name, value in raw.items():
        if value and ("\x00" in value or NUL_MARK in value):
            errors[name] = [_("Contains a NUL character.")]
        elif value and name in MAX_LENGTHS and len(value) > MAX_LENGTHS[name]:
            errors[name] = [_("Use at most %(n)s characters.") % {"n": MAX_LENGTHS[name]}]
    platform = (raw["platform"] or Platform.WECHAT).lower()
    if "platform" not in errors and platform not in Platform.values:
        errors["platform"] = [
            _("Unknown platform “%(value)s”: use one of %(choices)s.")
            % {"value": platform[:30], "choices": ", ".join(Platform.values)}
        ]
    if "external_user_id" not in errors and not raw["external_user_id"]:
        errors["external_user_id"] = [_("Give the member's user id on the platform.")]
    values = {
        name: raw[name] for name in ("display_name", "name_card", "notes") if raw[name] is not None
    }
    if raw["tags"] is not None and "tags" not in errors:
        try:
            values["tags"] = clean_tags([t for t in TAG_SEPARATORS.split(raw["tags"]) if t])
        except ValidationError as exc:
            errors["tags"] = (exc.message_dict if hasattr(exc, "error_dict") else {}).get(
                "tags", exc.messages
            )
    if errors:
        return None, errors
    group = cell("id") or ""
    return Row(number, platform, raw["external_user_id"], values, group[:40]), {}


def _apply(member, values: dict) -> bool:
    """Set the file's values on a member; True if anything changed."""
    changed = False
    for name in MEMBER_FIELDS:
        if name not in values or (name == "display_name" and not values[name]):
            continue
        if getattr(member, name) != values[name]:
            setattr(member, name, values[name])
            changed = True
    return changed


# --- one chunk -------------------------------------------------------------------------------


def _identities(org, keys) -> dict:
    """{(platform, external user id): identity with .member} of the keys that exist."""
    externals = {ext for _platform, ext in keys}
    rows = (
        MemberIdentity.objects.for_org(org)
        .filter(external_user_id__in=externals)
        .select_related("member")
    )
    return {
        (i.platform, i.external_user_id): i
        for i in rows
        if (i.platform, i.external_user_id) in keys
    }


def import_chunk(org, rows: list[Row], groups: dict) -> tuple[int, int]:
    """Upsert one chunk of clean rows; returns (created, updated). `groups` maps the file's `id`
    values to member ids across chunks. Call inside a transaction."""
    found = _identities(org, {row.key for row in rows})
    members = {}
    for identity in found.values():
        members.setdefault(identity.member_id, identity.member)
    for row in rows:
        if row.group and row.group not in groups and row.key in found:
            groups[row.group] = found[row.key].member_id
    wanted = {groups[r.group] for r in rows if r.key not in found and r.group in groups}
    if wanted - members.keys():
        members.update(Member.objects.for_org(org).in_bulk(wanted - members.keys()))

    pending: list = []  # new members, unsaved
    pending_by_group: dict = {}
    new_identities: dict = {}  # key -> unsaved MemberIdentity
    dirty: dict = {}
    counted: set = set()  # ids of the new members already counted
    created = updated = 0
    for row in rows:
        if row.key in found:
            member = members[found[row.key].member_id]
        elif row.key in new_identities:  # the same person twice in this chunk
            member = new_identities[row.key].member
        else:
            member = None
            if row.group:  # another row of the same person, in this chunk or an earlier one
                member = pending_by_group.get(row.group) or members.get(groups.get(row.group))
            if member is None:
                member = Member(organization=org)
                pending.append(member)
                if row.group:
                    pending_by_group[row.group] = member
            new_identities[row.key] = MemberIdentity(
                organization=org,
                member=member,
                platform=row.platform,
                external_user_id=row.external_user_id,
                display_name=row.values.get("display_name", ""),
            )
        if member.pk is None and id(member) not in counted:
            counted.add(id(member))  # the first row of a new member creates it
            created += 1
        else:
            updated += 1
        if _apply(member, row.values) and member.pk is not None:
            dirty[member.pk] = member
    if pending:
        Member.objects.bulk_create(pending)
    if new_identities:
        MemberIdentity.objects.bulk_create(new_identities.values(), ignore_conflicts=True)
        created, updated = _after_races(org, pending, new_identities, created, updated)
    if dirty:
        Member.objects.bulk_update(dirty.values(), MEMBER_FIELDS, batch_size=500)
    for group, member in pending_by_group.items():
        groups[group] = member.pk
    return created, updated


def _after_races(org, pending, new_identities, created, updated) -> tuple[int, int]:
    """An identity a concurrent event batch created first keeps its member (ignore_conflicts):
    drop the members this chunk made for nothing. Rare; costs one query when nothing raced."""
    stored = _identities(org, new_identities.keys())
    if all(stored[key].member_id == i.member.pk for key, i in new_identities.items()):
        return created, updated
    kept = {identity.member_id for identity in stored.values()}
    orphans = [member.pk for member in pending if member.pk not in kept]
    if orphans:
        Member.objects.for_org(org).filter(pk__in=orphans).delete()
    return created - len(orphans), updated + len(orphans)


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- the job ---------------------------------------------------------------------------------


def import_upload(*, actor, upload) -> ImportJob:
    """Check an uploaded CSV, store it as a job and queue the import when this commits."""
    require(actor, "member.edit")
    text, total = read_upload(upload)
    org = actor.organization
    name = (getattr(upload, "name", "") or "members.csv").replace("\x00", "")[:200]
    with transaction.atomic():
        job = ImportJob.objects.create(
            organization=org,
            file_name=name,
            content=text.replace("\x00", NUL_MARK),
            total_rows=total,
            created_by=actor.user,
        )
        audit.record(
            actor=actor,
            action=QUEUED_ACTION,
            obj=job,
            summary=_("%(file)s: %(n)s rows") % {"file": name, "n": total},
        )
        # robust: a broker that is down must not turn the stored upload into a 500; the error
        # is logged and the job stays queued.
        transaction.on_commit(partial(_enqueue, org.pk, job.pk), robust=True)
    return job


def _enqueue(org_id, job_id) -> None:
    from .import_tasks import run_import as task  # the task module runs this one's import

    task.delay(org_id, job_id)


def run_import(job) -> dict | None:
    """Run a queued job to the end. Returns the counts, or None when the job was not queued
    (another worker has it, or it ran already): the claim is a compare-and-set on the status."""
    org = job.organization
    jobs = ImportJob.objects.for_org(org).filter(pk=job.pk)
    if not jobs.filter(status=ImportJob.Status.QUEUED).update(status=ImportJob.Status.RUNNING):
        return None
    job.status = ImportJob.Status.RUNNING
    columns, rows = parse(job.content)
    groups: dict = {}
    errors: list = []
    processed = created = updated = 0
    for chunk in _chunks(rows, CHUNK_SIZE):
        clean, new_errors = [], []
        for number, cells in chunk:
            row, row_errors = clean_row(columns, number, cells)
            if row is None:
                index = columns["external_user_id"]
                user_id = cells[index][:128] if index < len(cells) else ""
                new_errors.append(
                    {"row": number, "external_user_id": user_id, "errors": row_errors}
                )
            else:
                clean.append(row)
        new_errors = new_errors[: MAX_ERROR_ROWS - len(errors)]
        with transaction.atomic():
            if clean:
                made, matched = import_chunk(org, clean, groups)
                created, updated = created + made, updated + matched
            processed += len(chunk)
            errors.extend(new_errors)
            progress = {
                "processed_rows": processed,
                "created_rows": created,
                "updated_rows": updated,
            }
            if new_errors:
                progress["errors"] = errors
            jobs.update(**progress)
    finished = timezone.now()
    with transaction.atomic():
        jobs.update(status=ImportJob.Status.DONE, finished_at=finished, total_rows=processed)
        audit.record(
            actor=_creator(job),
            action=DONE_ACTION,
            obj=job,
            summary=_summary(job, processed, created, updated),
        )
    job.status, job.finished_at, job.errors = ImportJob.Status.DONE, finished, errors
    job.total_rows = job.processed_rows = processed
    job.created_rows, job.updated_rows = created, updated
    return {"processed": processed, "created": created, "updated": updated}


def import_failed(job, message: str) -> None:
    """Mark a job failed (the rows of the chunks committed so far stay imported)."""
    jobs = ImportJob.objects.for_org(job.organization).filter(pk=job.pk)
    with transaction.atomic():
        current = jobs.select_for_update().values("errors", "processed_rows").first()
        if current is None:
            return
        errors = [*current["errors"], {"row": None, "errors": {"file": [message]}}]
        jobs.update(status=ImportJob.Status.FAILED, finished_at=timezone.now(), errors=errors)
        audit.record(
            actor=_creator(job),
            action=DONE_ACTION,
            obj=job,
            summary=_("%(file)s: stopped after %(n)s rows")
            % {"file": job.file_name, "n": current["processed_rows"]},
        )


def _summary(job, processed, created, updated) -> str:
    failed = processed - created - updated
    return _("%(file)s: %(created)s created, %(updated)s updated, %(failed)s failed") % {
        "file": job.file_name,
        "created": created,
        "updated": updated,
        "failed": failed,
    }


def _creator(job):
    """The actor who uploaded the job (the key or the person), for the audit entry at the end."""
    org = job.organization
    entry = (
        AuditLogEntry.objects.for_org(org)
        .filter(action=QUEUED_ACTION, object_type="members.importjob", object_id=str(job.pk))
        .select_related("actor_api_key", "actor_user")
        .first()
    )
    if entry is not None and entry.actor_api_key is not None:
        return Actor.for_api_key(entry.actor_api_key)
    user = job.created_by or (entry.actor_user if entry is not None else None)
    if user is not None:
        membership = OrgMembership.objects.for_org(org).filter(user=user).first()
        if membership is not None:
            return Actor.for_user(membership)
        return Actor.system(org, _("member import by %(email)s") % {"email": user.email})
    return Actor.system(org, entry.actor_label if entry is not None else _("member import"))
