"""Every action the code records has a label in words (the audit log and the home page never
show "care.case_closed"); objects without a readable name show their kind and number."""

import re
from pathlib import Path

from campaigns.models import OrderStatus
from care.models import STEPS, FollowUpStatus
from tenancy import audit
from tenancy.models import AuditLogEntry

ROOT = Path(__file__).resolve().parents[2]
APPS = sorted(p.name for p in ROOT.iterdir() if (p / "apps.py").is_file())
ACTION = re.compile(
    r'action=(?:"([a-z]+\.[a-z_]+)"(?: if [^\n]+? else "([a-z]+\.[a-z_]+)")?|(\w+_ACTION))'
)
# Codes built at run time: their template and every value they can take.
FAMILIES = {
    "care.case_{}": [s.value for s in STEPS],
    "care.follow_up_{}": [FollowUpStatus.DONE.value, FollowUpStatus.SKIPPED.value],
    "order.{}": [s.value for s in OrderStatus if s != OrderStatus.PLACED],
    "member.onboarding_{}": ["introduced", "coupon"],
    "member.identity_{}": ["link", "unlink"],
}


def recorded_codes() -> set[str]:
    """The literal action codes next to audit.record calls (and the constants they use)."""
    codes = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            constants = dict(re.findall(r'(\w+_ACTION) = "([a-z]+\.[a-z_]+)"', text))
            for match in re.finditer(r"audit\.record\(", text):
                call = text[match.end() : match.end() + 300]
                for first, second, constant in ACTION.findall(call):
                    codes |= {c for c in (first, second, constants.get(constant, "")) if c}
    return codes


def test_every_recorded_action_has_a_label():
    labels = audit.action_labels()
    codes = recorded_codes()
    assert len(codes) > 40, "the scan found too few actions to mean anything"
    for template, values in FAMILIES.items():
        codes |= {template.format(v) for v in values}
    missing = sorted(c for c in codes if c not in labels)
    assert not missing, f"add these to the app's AUDIT_ACTIONS: {missing}"


def test_an_unknown_action_reads_as_a_generic_change_not_its_code():
    assert audit.action_label("made.up_code") == str(audit._("Other change"))
    assert "made.up_code" not in audit.action_label("made.up_code")


def test_an_object_without_a_readable_name_shows_its_kind_and_number():
    entry = AuditLogEntry(
        object_type="communities.scheduledpost",
        object_id="22",
        object_repr="ScheduledPost object (22)",
    )
    label = audit.object_label(entry)
    assert "object (" not in label and label.endswith("#22")
    assert audit.object_label(AuditLogEntry(object_repr="周五秒杀")) == "周五秒杀"
