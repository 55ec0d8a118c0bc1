"""The dormant scan's dataset: its own organization with members each in five of its groups
(groups of about 5,000), their `joined` history, and a last activity spread as in a real
group: 15% never spoke, the others last spoke an exponential number of days ago (mean 12), 10%
already dormant, 5% gone. The groups' rules (through the service) say dormant after 7, 14 or 30
days of silence, a third each. Reused by a later run of the same size; `reset` undoes what a
Celery scan changed (history rows, statuses, reminders)."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.lib import app, db

from .synthetic.shape import TIME_ZONE

COMPLETE = "Dormant scan benchmark"
GROUP_SIZE = 5000
PER_MEMBER = 5  # memberships per member
THRESHOLDS = (7, 14, 30)

MEMBERS_SQL = [
    """
    CREATE TEMP TABLE dm_members AS
    SELECT g AS m,
           nextval(pg_get_serial_sequence('members_member', 'id')) AS member_id,
           nextval(pg_get_serial_sequence('members_memberidentity', 'id')) AS identity_id,
           floor(random() * %(c)s)::int AS k0
    FROM generate_series(1, %(n)s) g
    """,
    """
    INSERT INTO members_member (id, organization_id, display_name, name_card, tags, notes, phone,
        points_balance, first_seen_at)
    SELECT member_id, %(org)s, '成员' || m, '', '[]', '', '', 0, %(now)s FROM dm_members ORDER BY m
    """,
    """
    INSERT INTO members_memberidentity (id, organization_id, member_id, platform, external_user_id,
        display_name, first_seen_at)
    SELECT identity_id, %(org)s, member_id, 'wechat', 'wxid_dm_' || m, '成员' || m, %(now)s
    FROM dm_members ORDER BY m
    """,
    # each member in PER_MEMBER distinct groups (c >= PER_MEMBER, step c / PER_MEMBER)
    """
    CREATE TEMP TABLE dm_ms AS
    SELECT nextval(pg_get_serial_sequence('members_membership', 'id')) AS id, member_id,
           identity_id, community_id, joined_at,
           CASE WHEN r < 0.05 THEN 'left' WHEN r < 0.15 THEN 'dormant'
                WHEN joined_at > %(now)s::timestamptz - interval '1 day' THEN 'joined'
                WHEN joined_at > %(now)s::timestamptz - interval '3 days' THEN 'onboarding'
                WHEN r < 0.17 THEN 'warned' ELSE 'active' END AS status,
           CASE WHEN r < 0.05 THEN joined_at + random() * (%(now)s::timestamptz - joined_at) END
               AS left_at,
           CASE WHEN r >= 0.05 AND r < 0.15 THEN greatest(joined_at, %(now)s::timestamptz
                     - (40 + random() * 200) * interval '1 day')
                WHEN random() < 0.15 THEN NULL
                ELSE greatest(joined_at, %(now)s::timestamptz
                     + ln(1 - random()) * 12 * interval '1 day') END AS last_active_at
    FROM (
        SELECT member_id, identity_id,
               (%(communities)s::bigint[])[1 + (k0 + k * (%(c)s / %(per)s)) %% %(c)s]
                   AS community_id,
               %(now)s::timestamptz - random() * interval '365 days' AS joined_at, random() AS r
        FROM dm_members CROSS JOIN generate_series(0, %(per)s - 1) k
    ) s
    """,
    """
    INSERT INTO members_membership (id, organization_id, community_id, member_id, identity_id,
        status, joined_at, left_at, churn_reason, last_active_at, message_count, flood_count,
        name_card_ok, reminders_sent, flags, dormant_since)
    SELECT id, %(org)s, community_id, member_id, identity_id, status, joined_at, left_at,
           CASE WHEN status = 'left' THEN 'other' ELSE '' END, last_active_at,
           CASE WHEN last_active_at IS NULL THEN 0 ELSE 1 + floor(random() * 200)::int END, 0,
           true, 0, '[]',
           CASE WHEN status = 'dormant' THEN last_active_at + interval '30 days' END
    FROM dm_ms ORDER BY joined_at
    """,
    """
    INSERT INTO members_membershipchange (organization_id, membership_id, from_status, to_status,
        reason, actor_label, created_at)
    SELECT %(org)s, id, from_status, to_status, reason, 'generated', at
    FROM (
        SELECT id, '' AS from_status, 'joined' AS to_status, '' AS reason, joined_at AS at
        FROM dm_ms
        UNION ALL
        SELECT id, 'active', status, '', coalesce(left_at, last_active_at + interval '30 days')
        FROM dm_ms WHERE status IN ('left', 'dormant')
    ) c ORDER BY at
    """,
]

RESET_SQL = [
    # what a previous Celery run changed: its history rows, statuses, reminders, draws
    """
    UPDATE members_membership m SET status = c.from_status, dormant_since = NULL
    FROM members_membershipchange c
    WHERE m.organization_id = %(org)s AND c.organization_id = %(org)s
      AND c.actor_label = ANY(%(labels)s) AND c.membership_id = m.id
    """,
    """
    DELETE FROM members_membershipchange
    WHERE organization_id = %(org)s AND actor_label = ANY(%(labels)s)
    """,
    "DELETE FROM integrations_action WHERE organization_id = %(org)s",
    # the wake-up's draws (members/holdout.py): the next run draws afresh
    "DELETE FROM members_wakeupassignment WHERE organization_id = %(org)s",
    "DELETE FROM members_wakeupscan WHERE organization_id = %(org)s",
    """
    UPDATE members_membership SET reminders_sent = 0, last_reminded_at = NULL
    WHERE organization_id = %(org)s AND (reminders_sent > 0 OR last_reminded_at IS NOT NULL)
    """,
]


def create(slug: str, memberships: int):
    members = max(1, memberships // PER_MEMBER)
    groups = max(PER_MEMBER, round(memberships / GROUP_SIZE))
    org = app.organization_create(
        name=f"{COMPLETE} (incomplete)",
        slug=slug,
        owner_email=f"{slug}@bench.example.com",
        time_zone=TIME_ZONE,
    )
    system = app.system_actor(org)
    ids = []
    with app.org_scope(org):
        for i in range(groups):
            community = app.community_create(
                actor=system,
                name=f"沉睡测试{i + 1}群",
                external_id=f"wx-dm-{i:04d}",
                capacity=min(100_000, 2 * GROUP_SIZE),
            )
            # a third of the groups each: dormant after 7, 14 or 30 days
            days = THRESHOLDS[i % len(THRESHOLDS)]
            app.rules_update(actor=system, community=community, dormant_after_days=days)
            ids.append(community.pk)
    params = {
        "org": org.pk,
        "n": members,
        "c": groups,
        "per": PER_MEMBER,
        "communities": ids,
        "now": datetime.now(UTC),
    }
    with db.loading(seed=0.77) as conn, conn.transaction():
        for sql in MEMBERS_SQL:
            conn.execute(sql, params)
    vacuum()
    org.name = COMPLETE
    org.save(update_fields=["name"])
    return org


def ensure(memberships: int, *, fresh: bool, phases) -> tuple:
    """(org, reused): the dataset of this size, reused (and reset) or generated."""
    slug = f"dormant-{memberships}"
    org = app.Organization.objects.filter(slug=slug).first()
    if org is not None and org.name == COMPLETE and not fresh:
        print(f"reusing dataset {slug} (generated {org.created_at:%Y-%m-%d %H:%M} UTC)")
        phases.run("reset a previous run's changes", reset, org.pk)
        return org, True
    if org is not None:
        phases.run("purge old dataset", db.purge, None, org, "dormant")
    return phases.run("generate", create, slug, memberships), False


def vacuum() -> None:
    db.vacuum(None, ("members_membership", "members_membershipchange", "integrations_action"))


def reset(org_id: int) -> None:
    with db.connect() as conn, conn.transaction():
        for sql in RESET_SQL:
            conn.execute(sql, {"org": org_id, "labels": scan_labels()})


def scan_labels() -> list[str]:
    """The history's actor label of the scan in every language: the task writes it in the
    organization's (tenant_task activates it), the timed runs in the bench process's."""
    from django.conf import settings
    from django.utils import translation

    labels = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels.add(translation.gettext("dormant scan"))
    return sorted(labels)
