"""The registry the cross-tenant harness walks with. Every URL pattern of the project must be
covered here or exempted with a reason; a new route that is neither fails the harness.

- OBJECT_KWARGS: route name -> function(tenant) returning the URL kwargs (besides org_slug)
  that point at one of that tenant's objects. Used for dashboard routes under /o/<org_slug>/
  and for API routes that take an object id.
- NAMED_KWARGS: route name -> function(tenant) returning URL kwargs that name no object of
  an organization (a message and a language): the same for every tenant, so such a route is
  walked like a list page (another org's dashboard is 404, own pages show no other org's data).
- EXEMPT: route name (or namespace prefix ending in ':') -> why it is not tenant data.
"""

from datetime import timedelta

from django.utils import timezone

from tenancy.models import AuditLogEntry, Invitation, OrgMembership

from .factories import (
    AuditLogEntryFactory,
    BlockFactory,
    CampaignFactory,
    CaseFactory,
    CommunityFactory,
    FollowUpRuleFactory,
    FollowUpTaskFactory,
    InvitationFactory,
    MembershipFactory,
    OrderFactory,
    RedemptionItemFactory,
    StaffAssignmentFactory,
    SuggestionFactory,
    VipTierFactory,
    WarningFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
    make_poll,
)


def _membership(tenant):
    return {"pk": OrgMembership.objects.for_org(tenant.org).get(user=tenant.deputy).pk}


def _invitation(tenant):
    invitation = Invitation.objects.for_org(tenant.org).first() or InvitationFactory(
        organization=tenant.org
    )
    return {"pk": invitation.pk}


def _audit_entry(tenant):
    entry = AuditLogEntry.objects.for_org(tenant.org).first() or AuditLogEntryFactory(
        organization=tenant.org
    )
    return {"pk": entry.pk}


def _community(tenant):
    return {"pk": CommunityFactory(organization=tenant.org).pk}


def _staff_assignment(tenant):
    assignment = StaffAssignmentFactory(organization=tenant.org)
    return {"pk": assignment.community_id, "assignment_pk": assignment.pk}


def _tier(tenant):
    return {"pk": VipTierFactory(organization=tenant.org).pk}


def _reward(tenant):
    return {"pk": RedemptionItemFactory(organization=tenant.org).pk}


def _any_assignment(tenant):
    return {"pk": StaffAssignmentFactory(organization=tenant.org).pk}


API_COMMUNITY_ROUTES = [
    "api:community-detail",
    "api:community-archive",
    "api:community-restore",
    "api:community-rules",
    "api:community-rules-copy",
    "api:community-rules-template",
]


def _membership_row(tenant):
    return {"pk": MembershipFactory(organization=tenant.org).pk}


def _member(tenant):
    return {"pk": MembershipFactory(organization=tenant.org).member_id}


MEMBERSHIP_ROUTES = [
    "membership-warn",
    "membership-remove",
    "membership-reinstate",
    "membership-onboarding-introduced",
    "membership-onboarding-coupon",
]


def _plan(tenant):
    from communities.models import ContentPlan, PlanTarget

    plan = ContentPlan.objects.create(organization=tenant.org, name="ORG-MARKER plan")
    community = CommunityFactory(organization=tenant.org)
    PlanTarget.objects.create(organization=tenant.org, plan=plan, community=community)
    return plan.pk


def _post(tenant):
    from django.utils import timezone

    from communities.models import ScheduledPost

    community = CommunityFactory(organization=tenant.org)
    return ScheduledPost.objects.create(
        organization=tenant.org,
        community=community,
        scheduled_at=timezone.now() + timezone.timedelta(days=1),
        content_type="tips",
        text="ORG-MARKER post",
    ).pk


def _team(tenant):
    from django.utils import timezone

    from campaigns.models import Team

    campaign = CampaignFactory(
        organization=tenant.org, kind="group_buy", team_size=2, team_hours=24
    )
    leader = MembershipFactory(organization=tenant.org).member
    return Team.objects.create(
        organization=tenant.org,
        campaign=campaign,
        leader=leader,
        deadline=timezone.now() + timezone.timedelta(hours=1),
    ).pk


def _campaign_in_group(tenant):
    from campaigns.models import CampaignTarget

    campaign = CampaignFactory(organization=tenant.org)
    community = CommunityFactory(organization=tenant.org)
    CampaignTarget.objects.create(organization=tenant.org, campaign=campaign, community=community)
    return campaign.pk


def _coupon_template(tenant):
    from campaigns.models import CouponTemplate

    template = CouponTemplate.objects.create(
        organization=tenant.org, name="ORG-MARKER coupon", kind="amount", value=5, valid_days=30
    )
    return {"pk": template.pk}


def _issued_coupon(tenant):
    from campaigns.models import CouponEvent, CouponTemplate, IssuedCoupon

    template = CouponTemplate.objects.for_org(tenant.org).get(pk=_coupon_template(tenant)["pk"])
    member = MembershipFactory(organization=tenant.org).member
    coupon = IssuedCoupon.objects.create(
        organization=tenant.org,
        template=template,
        member=member,
        source="manual",
        expires_at=timezone.now() + timedelta(days=30),
    )
    CouponEvent.objects.create(
        organization=tenant.org, coupon=coupon, kind="issued", reason="ORG-MARKER reason"
    )
    return {"pk": coupon.pk}


def _perk(tenant):
    from campaigns.models import SegmentPerk

    perk = SegmentPerk.objects.create(
        organization=tenant.org, name="ORG-MARKER perk", active_within_days=7, percent_off=5
    )
    return {"pk": perk.pk}


def _identity(tenant):
    return {"pk": MembershipFactory(organization=tenant.org).identity_id}


def _outbox_action(tenant):
    from integrations import outbox

    from .factories import member_payload

    action = outbox.enqueue(organization=tenant.org, kind="member.welcome", **member_payload())
    return {"pk": action.pk}


def _import_job(tenant):
    from members.models import ImportJob

    job = ImportJob.objects.create(
        organization=tenant.org, file_name="m.csv", content="external_user_id\nu1\n", total_rows=1
    )
    return {"pk": job.pk}


def _poll(tenant):
    return {"pk": make_poll(tenant.org, [CommunityFactory(organization=tenant.org)]).pk}


def _duty(tenant):
    from .factories import DutyFactory

    return {"pk": DutyFactory(organization=tenant.org, measure="manual").pk}


def _duty_tick(tenant):
    from teamwork.models import DutyTick

    from .factories import DutyFactory

    tick = DutyTick.objects.create(
        organization=tenant.org,
        duty=DutyFactory(organization=tenant.org, measure="manual", role="deputy"),
        community=CommunityFactory(organization=tenant.org),
        user=tenant.deputy,
        day=timezone.localdate(),
        note="ORG-MARKER tick",
    )
    return {"pk": tick.pk}


def _goal(tenant):
    from .factories import GoalFactory

    return {"pk": GoalFactory(organization=tenant.org).pk}


def _award_round(tenant):
    from .factories import AwardRoundFactory

    return {"pk": AwardRoundFactory(organization=tenant.org).pk}


def _care_case(tenant):
    return {"pk": CaseFactory(organization=tenant.org).pk}


def _care_follow_up(tenant):
    return {"pk": FollowUpTaskFactory(organization=tenant.org).pk}


API_MEMBER_ROUTES = [
    "api:member-detail",
    "api:member-points",
    "api:member-points-adjust",
    "api:member-points-redeem",
    "api:member-link",
    "api:member-data-export",
    "api:member-erase",
]
API_MEMBERSHIP_ROUTES = [
    "api:membership-detail",
    "api:membership-warn",
    "api:membership-remove",
    "api:membership-reinstate",
    "api:membership-onboarding",
]


def _entry_review(tenant):
    from members.models import EntryReview

    membership = MembershipFactory(organization=tenant.org)
    review = EntryReview.objects.create(
        organization=tenant.org,
        membership=membership,
        community=membership.community,
        rule="below_tier",
        reason="below_tier",
    )
    return {"pk": review.pk}


def _message(tenant):
    return {"key": "warn", "language": "zh-hans"}


def _message_version(tenant, community=None):
    from integrations.models import MessageTemplate

    version = MessageTemplate.objects.create(
        organization=tenant.org,
        key="warn",
        language="zh-hans",
        community=community,
        text="ORG-MARKER {detail}",
        is_active=False,
    )
    return {**_message(tenant), "version": version.pk}


def _group_message(tenant):
    return {**_community(tenant), **_message(tenant)}


def _group_message_version(tenant):
    community = CommunityFactory(organization=tenant.org)
    return {"pk": community.pk, **_message_version(tenant, community)}


NAMED_KWARGS = {
    "message-template-edit": _message,
    "message-template-preview": _message,
    "message-template-reset": _message,
}


COMMUNITY_ROUTES = [
    "community-detail",
    "community-edit",
    "community-archive",
    "community-restore",
    "community-rules",
    "community-rules-template",
    "community-rules-copy",
    "community-staff",
    "community-messages",
]

OBJECT_KWARGS = {
    **dict.fromkeys(COMMUNITY_ROUTES, _community),
    "community-staff-end": _staff_assignment,
    "message-template-restore": _message_version,
    "entry-review-resolve": _entry_review,
    **dict.fromkeys(
        ["community-message-edit", "community-message-preview", "community-message-reset"],
        _group_message,
    ),
    "community-message-restore": _group_message_version,
    "tier-edit": _tier,
    "tier-retire": _tier,
    "reward-toggle": _reward,
    **dict.fromkeys(MEMBERSHIP_ROUTES, _membership_row),
    "member-detail": _member,
    "member-data-export": _member,
    "member-erase": _member,
    "warning-revoke": lambda tenant: {"pk": WarningFactory(organization=tenant.org).pk},
    "block-lift": lambda tenant: {"pk": BlockFactory(organization=tenant.org).pk},
    **dict.fromkeys(API_MEMBER_ROUTES, _member),
    **dict.fromkeys(API_MEMBERSHIP_ROUTES, _membership_row),
    "api:identity-detail": _identity,
    "api:identity-unlink": _identity,
    "api:warning-detail": lambda tenant: {"pk": WarningFactory(organization=tenant.org).pk},
    "api:warning-revoke": lambda tenant: {"pk": WarningFactory(organization=tenant.org).pk},
    "api:block-detail": lambda tenant: {"pk": BlockFactory(organization=tenant.org).pk},
    "api:block-lift": lambda tenant: {"pk": BlockFactory(organization=tenant.org).pk},
    "api:action-detail": _outbox_action,
    "api:action-ack": _outbox_action,
    **dict.fromkeys(
        [
            "api:campaign-detail",
            "api:campaign-publish",
            "api:campaign-cancel",
            "api:campaign-orders",
            "api:campaign-review",
            "api:campaign-teams",
            "api:campaign-entries",
            "api:campaign-draw",
        ],
        lambda tenant: {"pk": CampaignFactory(organization=tenant.org).pk},
    ),
    **dict.fromkeys(
        ["api:team-detail", "api:team-join"],
        lambda tenant: {"pk": _team(tenant)},
    ),
    **dict.fromkeys(
        ["campaign-live", "campaign-publish", "campaign-cancel", "campaign-draw"],
        lambda tenant: {"pk": _campaign_in_group(tenant)},
    ),
    **dict.fromkeys(
        ["api:order-detail", "api:order-pay", "api:order-cancel", "api:order-refund"],
        lambda tenant: {"pk": OrderFactory(organization=tenant.org).pk},
    ),
    **dict.fromkeys(
        [
            "coupon-edit",
            "coupon-retire",
            "api:coupon-template-detail",
            "api:coupon-template-retire",
            "api:coupon-template-issue",
        ],
        _coupon_template,
    ),
    "issued-coupon": _issued_coupon,
    "coupon-perk-toggle": _perk,
    "plan-edit": lambda tenant: {"pk": _plan(tenant)},
    "post-edit": lambda tenant: {"pk": _post(tenant)},
    **dict.fromkeys(
        ["api:webhook-detail", "api:webhook-disable", "api:webhook-enable", "webhook-toggle"],
        lambda tenant: {"pk": WebhookEndpointFactory(organization=tenant.org).pk},
    ),
    **dict.fromkeys(
        ["api:webhook-delivery-detail", "api:webhook-delivery-retry", "webhook-delivery-retry"],
        lambda tenant: {"pk": WebhookDeliveryFactory(organization=tenant.org).pk},
    ),
    "api:member-import-detail": _import_job,
    "member-import-job": _import_job,
    "team-member-role": _membership,
    "team-member-deactivate": _membership,
    "team-member-reactivate": _membership,
    "invitation-revoke": _invitation,
    "api-key-revoke": lambda tenant: {"pk": tenant.api_key.pk},
    "api:audit-log-detail": _audit_entry,
    **dict.fromkeys(API_COMMUNITY_ROUTES, _community),
    "api:staff-assignment-detail": _any_assignment,
    "api:staff-assignment-end": _any_assignment,
    "api:tier-detail": _tier,
    "api:tier-deactivate": _tier,
    "api:redemption-item-detail": _reward,
    **dict.fromkeys(
        [
            "care-case",
            "care-case-step",
            "care-case-comment",
            "care-case-assign",
            "care-case-reopen",
            "api:care-case-detail",
            "api:care-case-step",
            "api:care-case-comment",
            "api:care-case-assign",
            "api:care-case-reopen",
        ],
        _care_case,
    ),
    **dict.fromkeys(
        [
            "care-follow-up-done",
            "care-follow-up-skipped",
            "api:care-follow-up-detail",
            "api:care-follow-up-finish",
        ],
        _care_follow_up,
    ),
    "care-rule-toggle": lambda tenant: {"pk": FollowUpRuleFactory(organization=tenant.org).pk},
    **dict.fromkeys(["duty-retire", "duty-tick"], _duty),
    "duty-tick-undo": _duty_tick,
    **dict.fromkeys(["goal-detail", "goal-drop"], _goal),
    **dict.fromkeys(["award-round", "award-recompute"], _award_round),
    "metrics-community-page": _community,
    "metrics-reactivation-group": _community,
    "community-poster": lambda tenant: {
        "pk": CommunityFactory(organization=tenant.org, join_url="https://t.me/+join-a").pk
    },
    "campaign-poster": lambda tenant: {"pk": _campaign_in_group(tenant)},
    "poll": _poll,
    "poll-close": _poll,
    "suggestion-reply": lambda tenant: {"pk": SuggestionFactory(organization=tenant.org).pk},
    "api:metrics-community": _community,
    **dict.fromkeys(
        ["metrics-community-export", "api:metrics-community-csv"],
        lambda tenant: {**_community(tenant), "table": "series"},
    ),
}

EXEMPT = {
    "admin:": "Django admin: platform operators (is_staff) only, not a tenant-facing page",
    "home": "redirects to the user's own organization; shows no tenant data",
    "org-list": "lists only the signed-in user's own memberships",
    "login": "account page, no tenant data",
    "logout": "account page, no tenant data",
    "password_change": "account page, no tenant data",
    "password_change_done": "account page, no tenant data",
    "password_reset": "account page, no tenant data",
    "password_reset_done": "account page, no tenant data",
    "password_reset_confirm": "account page, no tenant data",
    "password_reset_complete": "account page, no tenant data",
    "invitation-accept": "the unguessable single-use token is the credential (tested separately)",
    "signup": "public sign-up page: creates a new organization, shows no tenant data",
    "signup-sent": "public sign-up page: a fixed text",
    "signup-verify": "the signed single-use token is the credential (tests/tenancy/test_signup.py)",
    "set_language": "sets a cookie only",
    "livez": "process liveness only, no tenant data",
    "readyz": "service status only, no tenant data",
    "healthz": "service status only, no tenant data",
    "metrics": "operator monitoring: totals over all organizations, behind METRICS_TOKEN",
    "lottery-verification": "public by design: commitments, pseudonymous entrant ids, winners",
    "api-schema": "OpenAPI description of the API, no tenant data",
    "api-docs": "Swagger UI page, no tenant data",
    "telegram-webhook": "Telegram's calls: the random path secret and the X-Telegram-Bot-Api-"
    "Secret-Token header are the credential; another organization's id with them is a 404 "
    "(tests/connectors/test_telegram_edges.py)",
    "wecom-callback": "WeCom's calls: the path secret, the msg_signature with the connection's "
    "Token and the encryption with its EncodingAESKey for its corp id are the credential; "
    "another organization's id with them is a 404 (tests/connectors/test_wecom_callback.py)",
}


# --- member pages (/m/<org>/, portal/) -------------------------------------------------------
# Route name -> function(tenant, member) returning the URL kwargs (besides `org`) of one of that
# tenant's objects; `member` is a member of that tenant and owns the member-owned ones (orders).


def _member_campaign(kind):
    def make(tenant, member):
        from campaigns.models import CampaignTarget
        from members.models import Membership

        membership = Membership.objects.for_org(tenant.org).filter(member=member).order_by("pk")
        community = membership.first().community
        campaign = CampaignFactory(
            organization=tenant.org,
            kind=kind,
            status="scheduled",
            team_size=2 if kind == "group_buy" else None,
            team_hours=24 if kind == "group_buy" else None,
        )
        CampaignTarget.objects.create(
            organization=tenant.org, campaign=campaign, community=community
        )
        if kind == "lottery":
            from campaigns.models import LotteryDraw

            LotteryDraw.objects.create(
                organization=tenant.org,
                campaign=campaign,
                draw_at=campaign.ends_at,
                seed="00" * 32,
                commitment="11" * 32,
            )
        return {"pk": campaign.pk}

    return make


def _member_team(tenant, member):
    from campaigns.models import Campaign, Team

    pk = _member_campaign("group_buy")(tenant, member)["pk"]
    team = Team.objects.create(
        organization=tenant.org,
        campaign=Campaign.objects.for_org(tenant.org).get(pk=pk),
        leader=member,
        deadline=timezone.now() + timedelta(hours=1),
    )
    return {"pk": team.pk}


def _member_order(tenant, member):
    return {"pk": OrderFactory(organization=tenant.org, member=member).pk}


def _member_poll(tenant, member):
    from members.models import Membership

    community = Membership.objects.for_org(tenant.org).get(member=member).community
    return {"pk": make_poll(tenant.org, [community]).pk}


def _member_link(tenant, member):
    from members import access

    return {"token": access.personal_link(member, "me/").rstrip("/").rsplit("/", 1)[1]}


def _member_leaving(tenant, member):
    from members.models import Leaving, Membership

    membership = Membership.objects.for_org(tenant.org).filter(member=member).order_by("pk")[0]
    leaving = Leaving.objects.create(
        organization=tenant.org,
        membership=membership,
        community=membership.community,
        member=member,
        left_at=timezone.now() - timedelta(hours=1),
        asked_at=timezone.now(),
    )
    return {"pk": leaving.pk}


def _member_poster(tenant, member):
    from core.posters import sign

    community = CommunityFactory(organization=tenant.org, join_url="https://t.me/+join-b")
    return {"token": sign("g", tenant.org.pk, community.pk)}


MEMBER_OBJECT_KWARGS = {
    "member-poster": _member_poster,
    "member-link": _member_link,
    "member-leaving": _member_leaving,
    "member-campaign": _member_campaign("flash_sale"),
    "member-campaign-stock": _member_campaign("flash_sale"),
    "member-buy": _member_campaign("flash_sale"),
    "member-team-open": _member_campaign("group_buy"),
    "member-lottery-enter": _member_campaign("lottery"),
    "member-team": _member_team,
    "member-team-join": _member_team,
    "member-order": _member_order,
    "member-report": _member_order,
    "member-poll": _member_poll,
    "member-poll-answer": _member_poll,
    "member-poll-results": _member_poll,
}
# Member pages with no object in the address: they show only the signed-in member's own data.
MEMBER_PAGES = {
    "member-home",
    "member-signin",
    "member-signout",
    "member-telegram",
    "member-telegram-session",
    "member-me",
    "member-checkin",
    "member-polls",
    "member-ideas",
    "member-coupons",
    "member-coupon-redeem",
}
# Member-owned objects: another member of the same organization gets a 404 for them too.
MEMBER_OWNED = {"member-order", "member-report", "member-leaving"}
# Every route's URL kwargs for one tenant, objects and names alike.
ROUTE_KWARGS = {**OBJECT_KWARGS, **NAMED_KWARGS}
