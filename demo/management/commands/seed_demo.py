"""A realistic demo: a health-food brand and a mother-and-baby shop (from the seed articles).

Idempotent: running it again leaves existing demo data as it is. Each app adds its own demo
data from its `demo.py` (communities: groups of every kind, rules, staff, tiers, points).
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.models import Order
from demo import campaigns as campaigns_demo
from demo import care as care_demo
from demo import communities as communities_demo
from demo import engagement as engagement_demo
from demo import members as members_demo
from demo import metrics as metrics_demo
from demo import teamwork as teamwork_demo
from members import access
from members.models import Membership
from tenancy.actors import Actor
from tenancy.models import Organization, OrgMembership, User
from tenancy.roles import OrgRole
from tenancy.scope import org_scope
from tenancy.services import (
    api_key_create,
    invitation_create,
    organization_create,
    organization_update,
)

DEMO_PASSWORD = "qunyun-demo-2026"  # noqa: S105 - printed on purpose: demo logins only

DEMO_ORGS = [
    {
        "slug": "jiankang",
        "name": "健康优选 · 营养食品社群",
        "owner": "owner@demo.qunyun.cn",
        "time_zone": "Asia/Shanghai",
        "people": [
            ("deputy@demo.qunyun.cn", "李副团长", OrgRole.STAFF),
            ("analyst@demo.qunyun.cn", "王数据", OrgRole.ANALYST),
            ("manager@demo.qunyun.cn", "陈运营", OrgRole.MANAGER),
            ("subowner@demo.qunyun.cn", "刘分群主", OrgRole.STAFF),
            ("content@demo.qunyun.cn", "赵内容官", OrgRole.STAFF),
            ("benefits@demo.qunyun.cn", "孙福利官", OrgRole.STAFF),
        ],
        "kind": "health",
        "invite": ("new-subowner@demo.qunyun.cn", OrgRole.STAFF),
        "payment_instructions": (
            "请在付款截止前转账到团长微信 jiankang_tuanzhang（李副团长），备注订单号后四位；"
            "收款后团长会在群里确认，次日发货。"
        ),
    },
    {
        "slug": "beibei",
        "name": "贝贝母婴生活馆",
        "owner": "owner@demo.qunyun.cn",
        "time_zone": "Asia/Shanghai",
        "people": [("mama@demo.qunyun.cn", "张宝妈", OrgRole.STAFF)],
        "invite": None,
        "kind": "baby",
        "payment_instructions": (
            "请用微信或支付宝转账给张宝妈（微信号 beibei_mama），备注订单号后四位；"
            "到店自提的宝妈也可以到店付款。"
        ),
    },
]

DEMO_LOGINS = [
    ("owner@demo.qunyun.cn", "owner of 健康优选 and 贝贝母婴"),
    ("deputy@demo.qunyun.cn", "staff: deputy of 健康优选·全国综合1群 only"),
    ("subowner@demo.qunyun.cn", "staff: sub-owner of five 健康优选 groups (over the limit)"),
    (
        "content@demo.qunyun.cn",
        "staff: content officer of two 健康优选 groups, topic officer of one",
    ),
    ("benefits@demo.qunyun.cn", "staff: benefits officer (flash sales) of two 健康优选 groups"),
    ("manager@demo.qunyun.cn", "manager at 健康优选"),
    ("analyst@demo.qunyun.cn", "analyst (read-only) at 健康优选"),
]


# The group whose member gets a personal link printed: its deputy (deputy@demo.qunyun.cn) sees
# the problems that member reports in the care queue.
DEMO_MEMBER_GROUP = "健康优选·全国综合1群"


def demo_member_link(org):
    """(member, personal link to their page) for a member of DEMO_MEMBER_GROUP who has
    ordered, or any active member of it; (None, "") when there is none."""
    memberships = (
        Membership.objects.for_org(org)
        .filter(community__name=DEMO_MEMBER_GROUP, status="active")
        .select_related("member")
    )
    buyers = set(
        Order.objects.for_org(org)
        .filter(community__name=DEMO_MEMBER_GROUP)
        .values_list("member_id", flat=True)
    )
    candidates = sorted(memberships, key=lambda m: (m.member_id not in buyers, m.pk))
    for membership in candidates[:20]:
        link = access.personal_link(membership.member, "me/")
        if link:
            return membership.member, link
    return None, ""


class Command(BaseCommand):
    help = "Load the demo organizations and logins (idempotent)."

    def handle(self, *args, **opts):
        new_keys = []
        with transaction.atomic():
            owner = self._user("owner@demo.qunyun.cn", "周总")
            for spec in DEMO_ORGS:
                org = Organization.objects.filter(slug=spec["slug"]).first()
                if org is not None:
                    continue
                org = organization_create(
                    name=spec["name"],
                    slug=spec["slug"],
                    owner_email=owner.email,
                    time_zone=spec["time_zone"],
                    label=_("demo data"),
                )
                actor = Actor.system(org, _("demo data"))
                for email, name, role in spec["people"]:
                    user = self._user(email, name)
                    OrgMembership.objects.create(organization=org, user=user, role=role)
                organization_update(
                    actor=actor,
                    name=org.name,
                    time_zone=org.time_zone,
                    default_language=org.default_language,
                    payment_instructions=spec["payment_instructions"],
                )
                if spec["invite"]:
                    invitation_create(actor=actor, email=spec["invite"][0], role=spec["invite"][1])
                _key, raw = api_key_create(actor=actor, name="演示机器人 demo bot")
                new_keys.append((org.slug, raw))
            for spec in DEMO_ORGS:
                org = Organization.objects.get(slug=spec["slug"])
                actor = Actor.system(org, _("demo data"))
                # each organization in its scope, as a task would: row-level security has no
                # value that shows every organization (tenancy/rls.py)
                with org_scope(org):
                    communities_demo.seed(org, actor, kind=spec["kind"])
                    communities_demo.seed_calendar(org, actor)
                    members_demo.seed(org, actor)
                    campaigns_demo.seed(org, actor)
                    care_demo.seed(org, actor)
                    engagement_demo.seed(org, actor)
                    metrics_demo.seed(org, actor)  # rollups of everything above
                    teamwork_demo.seed(org, actor)  # last: goals and awards read the rollups
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, what in DEMO_LOGINS:
            self.stdout.write(f"  {email:28} {what}")
        for slug, raw in new_keys:
            self.stdout.write(f"  API key for {slug} (shown once): {raw}")
        member, link = demo_member_link(Organization.objects.get(slug=DEMO_ORGS[0]["slug"]))
        if link:
            self.stdout.write(
                f"Member pages, as {member} of {DEMO_MEMBER_GROUP} (a personal link: it opens "
                f"once, within {settings.MEMBER_LINK_HOURS} hours; each run prints a new one):"
            )
            self.stdout.write(f"  {link}")

    def _user(self, email, full_name):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, full_name=full_name
            )
        return user
