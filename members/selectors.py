"""What an actor may see of members, and a member's timeline."""

from datetime import timedelta

from django.db.models import Count, Exists, IntegerField, Q, Subquery, Value
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from communities.selectors import visible_communities
from core.formatting import count, duration, money
from integrations.models import Action, ActionKind
from tenancy.home import Step, TodayItem, TodaySection, first_of
from tenancy.models import ApiKey, Organization
from tenancy.permissions import can, can_anywhere

from .models import (
    PRESENT_STATUSES,
    Block,
    ChurnReason,
    Member,
    MemberIdentity,
    Membership,
    MembershipChange,
    MembershipStatus,
    PointsEntry,
    RawEvent,
    Warning,
)


def addressees(org, member_ids, platform=None) -> dict:
    """{member id: the identity a bot reaches them by}: the one on `platform` when they have
    one there, else their first. Members with no identity are left out (nobody to message)."""
    found: dict = {}
    rows = MemberIdentity.objects.for_org(org).filter(member_id__in=set(member_ids)).order_by("pk")
    for identity in rows:
        current = found.get(identity.member_id)
        if current is None or (identity.platform == platform and current.platform != platform):
            found[identity.member_id] = identity
    return found


def address(identity, member) -> dict:
    """The payload fields that say whom an action is for (integrations.action_payloads)."""
    return {
        "user_external_id": identity.external_user_id,
        "display_name": identity.display_name or member.display_name,
        "platform": identity.platform,
    }


def visible_memberships(actor):
    qs = Membership.objects.for_org(actor.organization)
    if can(actor, "member.view"):
        return qs
    return qs.filter(community__in=visible_communities(actor))


def visible_members(actor):
    qs = Member.objects.for_org(actor.organization).filter(merged_into=None)
    if can(actor, "member.view"):
        return qs
    return qs.filter(pk__in=visible_memberships(actor).values("member_id"))


def member_for(actor, pk) -> Member:
    try:
        return visible_members(actor).select_related("tier").get(pk=pk)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def membership_for(actor, pk) -> Membership:
    try:
        return (
            visible_memberships(actor)
            .select_related("community", "identity", "member", "member__tier")
            .get(pk=pk)
        )
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def search_members(actor, params):
    """Every filter is a semi-join (`pk IN (…)`), never a join: no row comes twice, so the
    page and its count need no DISTINCT over every matching member."""
    org = actor.organization
    qs = visible_members(actor).select_related("tier")
    query = (params.get("q") or "").strip()[:100]
    if query:
        qs = qs.filter(
            Q(display_name__icontains=query)
            | Q(name_card__icontains=query)
            | Q(
                pk__in=MemberIdentity.objects.for_org(org)
                .filter(external_user_id__icontains=query)
                .values("member_id")
            )
        )
    memberships = visible_memberships(actor)
    if params.get("status"):
        qs = qs.filter(pk__in=memberships.filter(status=params["status"]).values("member_id"))
    if params.get("community"):
        try:
            community_id = int(params["community"])
        except ValueError:
            community_id = 0
        qs = qs.filter(pk__in=memberships.filter(community_id=community_id).values("member_id"))
    tier = str(params.get("tier") or "")
    if tier.isdigit() and len(tier) < 19:
        qs = qs.filter(tier_id=int(tier))
    tag = (params.get("tag") or "").strip()[:30]
    if tag:
        qs = qs.filter(tags__icontains=f'"{tag}"')
    if params.get("blocked") == "1":
        qs = qs.filter(pk__in=Block.objects.for_org(org).filter(lifted_at=None).values("member_id"))
    return qs.order_by("-pk")


TIMELINE_LIMIT = 100

EVENT_LABELS = {
    "member.joined": pgettext_lazy("timeline", "joined"),
    "member.left": pgettext_lazy("timeline", "left"),
    "message.posted": pgettext_lazy("timeline", "message"),
    "member.checked_in": pgettext_lazy("timeline", "check-in"),
    "member.opened_app": pgettext_lazy("timeline", "opened the member app"),
    "content.shared": pgettext_lazy("timeline", "share"),
    "member.invited": pgettext_lazy("timeline", "invited someone"),
    "order.placed": pgettext_lazy("timeline", "order"),
    "order.refunded": pgettext_lazy("timeline", "refund"),
    "order.shipped": pgettext_lazy("timeline", "shipped"),
    "order.delivered": pgettext_lazy("timeline", "delivered"),
}
MESSAGE_KINDS = {
    "text": _("text message"),
    "image": _("image"),
    "link": _("link"),
    "other": _("other message"),
}
POINTS_LABELS = {
    "message": _("points for messages"),
    "checkin": _("points for a check-in"),
    "streak": _("check-in streak bonus"),
    "share": _("points for a share"),
    "invite": _("points for an invite"),
    "invite_bonus": _("invite bonus"),
    "purchase": _("points for a purchase"),
    "repurchase": _("points for a repurchase"),
    "refund": _("points taken back (refund)"),
    "redeem": _("points redeemed"),
    "adjust": _("points adjusted by hand"),
    "merge_in": _("points from a linked account"),
    "merge_out": _("points moved to a linked account"),
}
WARNING_LABELS = {
    "ads": _("warning: ads"),
    "flood": _("warning: flooding"),
    "name_card": _("warning: name card"),
    "manual": _("warning"),
}
TIER_LABELS = {"promoted": _("tier up"), "demoted": _("tier down")}


def _label(kind: str, code: str) -> str:
    tables = {
        "event": EVENT_LABELS,
        "points": POINTS_LABELS,
        "warning": WARNING_LABELS,
        "tier": TIER_LABELS,
        "status": dict(MembershipStatus.choices),
        "action": dict(ActionKind.choices),
    }
    label = tables.get(kind, {}).get(code)
    if label is None:  # a code this table does not know yet: say what kind of entry it is
        label = {"warning": WARNING_LABELS["manual"], "points": _("points")}.get(kind, _("other"))
    return str(label)


def points_label(reason: str) -> str:
    """What a points ledger entry was for, as a person reads it."""
    return _label("points", reason)


def points_detail(entry) -> str:
    """The ledger entry's detail: an invite names the invited member's number."""
    if entry.reason == "invite" and entry.detail.isdigit():
        return str(_("member #%(id)s") % {"id": entry.detail})
    return entry.detail


def timeline(actor, member):
    """The member's history, newest first: events, status changes, warnings, points, actions."""
    org = actor.organization
    community_ids = set(visible_communities(actor).values_list("pk", flat=True))
    memberships = Membership.objects.for_org(org).filter(
        member=member, community_id__in=community_ids
    )
    items = []
    for event in (
        RawEvent.objects.for_org(org)
        .filter(member=member, community_id__in=community_ids)
        .select_related("community")
        .order_by("-occurred_at")[:TIMELINE_LIMIT]
    ):
        items.append(
            {
                "at": event.occurred_at,
                "kind": "event",
                "label": event.type,
                "community": event.community,
                "detail": _event_detail(event),
            }
        )
    for change in (
        MembershipChange.objects.for_org(org)
        .filter(membership__in=memberships)
        .select_related("membership__community")
        .order_by("-created_at")[:TIMELINE_LIMIT]
    ):
        items.append(
            {
                "at": change.created_at,
                "kind": "status",
                "label": change.to_status,
                "community": change.membership.community,
                "detail": _leave_reason(change.reason)
                if change.to_status == MembershipStatus.LEFT
                else change.reason,
                "by": change.actor_label,
            }
        )
    for warning in (
        Warning.objects.for_org(org)
        .filter(membership__in=memberships)
        .select_related("membership__community")
        .order_by("-created_at")[:TIMELINE_LIMIT]
    ):
        items.append(
            {
                "at": warning.created_at,
                "kind": "warning",
                "label": warning.reason,
                "community": warning.membership.community,
                "detail": warning.detail,
                "warning": warning,
            }
        )
    for entry in (
        PointsEntry.objects.for_org(org)
        .filter(member=member)
        .order_by("-created_at")[:TIMELINE_LIMIT]
    ):
        items.append(
            {
                "at": entry.created_at,
                "kind": "points",
                "label": entry.reason,
                "detail": f"{entry.delta:+d} {points_detail(entry)}".strip(),
            }
        )
    for action in (
        Action.objects.for_org(org)
        .filter(member=member, community_id__in=community_ids)
        .select_related("community")
        .order_by("-created_at")[:TIMELINE_LIMIT]
    ):
        items.append(
            {
                "at": action.created_at,
                "kind": "action",
                "label": action.kind,
                "community": action.community,
                "detail": action.payload.get("text", "")[:200],
                # what the bot reported: pending, done, failed (and why)
                "by": " ".join(filter(None, [str(action.get_status_display()), action.outcome])),
            }
        )
    items.sort(key=lambda item: item["at"], reverse=True)
    for item in items[:TIMELINE_LIMIT]:
        item["label"] = _label(item["kind"], item["label"])
    return items[:TIMELINE_LIMIT]


def _leave_reason(code: str) -> str:
    """Why a member left, in words (the bot reports a churn reason code)."""
    if not code:
        return ""
    label = dict(ChurnReason.choices).get(code)
    return str(label if label is not None else _("other reason"))


def _event_detail(event) -> str:
    payload = event.payload
    if event.type == "order.placed":
        return f"{payload.get('order_id')} {money(payload.get('amount'))}"
    if event.type == "member.left":
        return _leave_reason(payload.get("reason") or "")
    if event.type == "message.posted":
        kind = MESSAGE_KINDS.get(payload.get("kind") or "text", MESSAGE_KINDS["other"])
        return str(
            _("%(kind)s, %(n)s characters") % {"kind": kind, "n": count(payload.get("length", 0))}
        )
    return ""


LEADERBOARD_WEIGHTS = {
    "message.posted": 1,
    "member.checked_in": 2,
    "content.shared": 3,
    "member.invited": 5,
}


def weekly_leaderboard(org, community, now=None, limit=10) -> list[dict]:
    """This week's top contributors of a group: messages, check-ins, shares and invites,
    weighted (one aggregate query plus one for the names)."""

    since = (now or timezone.now()) - timedelta(days=7)
    counts = {kind: Count("pk", filter=Q(type=kind)) for kind in LEADERBOARD_WEIGHTS}
    rows = (
        RawEvent.objects.for_org(org)
        .filter(community=community, occurred_at__gte=since, type__in=list(LEADERBOARD_WEIGHTS))
        .values("member_id")
        .annotate(**{k.replace(".", "_"): c for k, c in counts.items()})
        .annotate(
            score=sum(
                (
                    Count("pk", filter=Q(type=kind)) * Value(weight, output_field=IntegerField())
                    for kind, weight in LEADERBOARD_WEIGHTS.items()
                ),
                Value(0, output_field=IntegerField()),
            )
        )
        .order_by("-score", "member_id")[:limit]
    )
    rows = list(rows)
    names = dict(
        Member.objects.for_org(org)
        .filter(pk__in=[r["member_id"] for r in rows])
        .values_list("pk", "display_name")
    )
    for row in rows:
        row["name"] = names.get(row["member_id"], "")
    return rows


def community_page_panel(*, org, community) -> dict:
    """This week's leaderboard and why members left, per cause over the last months, on a
    group's page (registered on `communities.hooks`)."""
    from .leaving import trend

    return {"leaderboard": weekly_leaderboard(org, community), "leaving": trend(org, community)}


def preview_member_name(*, org, community) -> dict:
    """A real member's name for previewing a message's wording (registered on
    `integrations.message_templates.preview_context`): the group's latest joiner still in it,
    or the organization's."""
    memberships = Membership.objects.for_org(org).filter(status__in=PRESENT_STATUSES)
    if community is not None:
        memberships = memberships.filter(community=community)
    found = memberships.select_related("identity", "member").order_by("-joined_at", "-pk").first()
    if found is None:
        return {}
    return {"member": found.identity.display_name or found.member.display_name}


# --- the organization's home ------------------------------------------------------------------


def _ago(moment) -> str:
    return duration((timezone.now() - moment).total_seconds()) if moment else ""


def _people_section(actor, *, key, title, memberships, since, meta, url, order) -> TodaySection:
    """The oldest of these memberships and how many there are (two queries)."""
    rows, total = first_of(
        memberships.select_related("community", "member", "identity"), since, "pk"
    )
    org_slug = actor.organization.slug
    return TodaySection(
        key=key,
        title=title,
        count=total,
        items=[
            TodayItem(
                title=m.identity.display_name or str(m.member),
                url=reverse("member-detail", args=[org_slug, m.member_id]),
                meta=meta(m),
            )
            for m in rows
        ],
        url=url,
        order=order,
    )


def home_panel(*, actor) -> dict:
    """What needs the actor among members: newcomers to greet, dormant members not reminded
    yet, members flagged by the join checks for review; only in the groups the actor may see
    members of (registered on `tenancy.hooks.dashboard_panels`). Six queries."""
    if not can_anywhere(actor, "member.view"):
        return {}
    org_slug = actor.organization.slug
    visible = visible_memberships(actor)
    newcomers = _people_section(
        actor,
        key="newcomers",
        title=gettext("Newcomers to greet"),
        memberships=visible.filter(
            status__in=[MembershipStatus.JOINED, MembershipStatus.ONBOARDING]
        ),
        since="joined_at",
        meta=lambda m: (
            gettext("%(group)s · joined %(ago)s ago")
            % {"group": m.community.name, "ago": _ago(m.joined_at)}
        ),
        url=reverse("newcomers", args=[org_slug]),
        order=10,
    )
    dormant = _people_section(
        actor,
        key="dormant",
        title=gettext("Dormant members to wake"),
        memberships=visible.filter(status=MembershipStatus.DORMANT, reminders_sent=0),
        since="dormant_since",
        meta=lambda m: (
            gettext("%(group)s · silent for %(ago)s")
            % {"group": m.community.name, "ago": _ago(m.last_active_at or m.dormant_since)}
        ),
        url=reverse("dormant", args=[org_slug]) + "?reminded=no",
        order=30,
    )
    flagged = _people_section(
        actor,
        key="flagged",
        title=gettext("Members to review"),
        memberships=visible.filter(status__in=PRESENT_STATUSES).exclude(flags=[]),
        since="joined_at",
        meta=lambda m: (
            f"{m.community.name} · " + pgettext("list separator", ", ").join(m.flag_labels)
        ),
        url="",
        order=20,
    )
    return {"today": [newcomers, dormant, flagged]}


def first_steps(*, actor) -> list[Step]:
    """ "Connect a bot": done when the first event has arrived from a bot, whichever key it
    used (registered on `tenancy.hooks.first_steps`). One query."""
    org = actor.organization
    first_event, keyed = (
        Organization.objects.filter(pk=org.pk)
        .annotate(
            # ordered as the (organization, client event id) index: found there, never by a
            # scan of the raw events
            first_event=Subquery(
                RawEvent.objects.for_org(org).order_by("client_event_id").values("pk")[:1]
            ),
            keyed=Exists(ApiKey.objects.for_org(org).filter(revoked_at=None)),
        )
        .values_list("first_event", "keyed")
        .get()
    )
    arrived = first_event is not None
    if keyed:
        hint = gettext(
            "Your key is ready: the step ticks itself when the bot's first event arrives."
        )
    else:
        hint = gettext(
            "Create an API key for your bot; the step ticks itself with its first event."
        )
    return [
        Step(
            key="bot",
            label=gettext("Connect a bot"),
            done=arrived,
            order=30,
            url=reverse("api-keys", args=[org.slug]) if can(actor, "apikey.manage") else "",
            hint=hint,
        )
    ]
