"""What each kind of action carries in its `payload`: one struct per kind.

These are the definitions the outbox checks every action against when it is built
(`outbox.build`), and the ones the OpenAPI document and docs/integrations.md are generated from
(`integrations.openapi`), so what a bot is told and what it gets cannot drift apart. A writer
that adds a field adds it here first; an unknown field is a programming error.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from .models import ActionKind
from .platforms import Platform

PlatformName = Annotated[
    Literal[tuple(Platform.values)],  # type: ignore[valid-type]
    msgspec.Meta(description="The chat platform (the group's `platform`)."),
]
GroupId = Annotated[str, msgspec.Meta(description="The group's id on the platform.")]
UserId = Annotated[str, msgspec.Meta(description="The member's id on the platform.")]
Name = Annotated[str, msgspec.Meta(description="The member's name as the group knows them.")]
Text = Annotated[str, msgspec.Meta(description="The message to send, ready to post.")]
OrderId = Annotated[str, msgspec.Meta(description="The order's id as your shop knows it.")]
DeleteMessage = Annotated[
    str,
    msgspec.Meta(
        description="The `id` of the event (message) that broke the rule, when the group's "
        "rules say to delete it: delete that message where the platform allows."
    ),
]


class _Payload(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class _InGroup(_Payload):
    community_external_id: GroupId
    platform: PlatformName


class _ToMember(_InGroup):
    user_external_id: UserId
    display_name: Name


class MemberWelcomePayload(_ToMember):
    """Welcome a member who joined; `rules_text` is the group's intro and rules as the bot
    posts them (empty when the group has none)."""

    text: Text
    rules_text: str = ""


class MemberWarnPayload(_ToMember):
    """Warn a member (send `text` to the group, addressed to the member). `mute_hours`: mute
    them for that long, where the group mutes before removing."""

    text: Text
    reason: Annotated[
        str,
        msgspec.Meta(
            description="Which rule: ads, flood, name_card, personal_attack, custom, manual …"
        ),
    ]
    warning: Annotated[int, msgspec.Meta(ge=1, description="This warning's number.")]
    threshold: Annotated[
        int, msgspec.Meta(ge=1, description="Active warnings that lead to a removal.")
    ]
    mute_hours: int | None = None
    delete_message: DeleteMessage | None = None


class MemberRemovePayload(_ToMember):
    """Remove a member from the group; post `announce` in the group when it is not empty.
    `block`: the member is on the block list, so the removal is permanent (a platform that
    bans keeps the ban); otherwise they may come back by invitation."""

    reason: Annotated[str, msgspec.Meta(description="ads, manual, blocked or the rule broken.")]
    announce: str = ""
    block: bool = False
    delete_message: DeleteMessage | None = None


class MemberRemindPayload(_ToMember):
    """Wake a dormant member up with a direct message: `text` ends with the member's personal
    link, which signs in whoever opens it first, so never post it in the group."""

    text: Text
    reminder: Annotated[int, msgspec.Meta(ge=1, description="The how-manyth reminder this is.")]


class MemberInviteBackPayload(_ToMember):
    """A removed member was reinstated: invite them back into the group."""


class PostReplyPayload(_ToMember):
    """Reply to a member in the group: a keyword auto-reply or member care's answer."""

    text: Text
    reply_to: (
        Annotated[str, msgspec.Meta(description="The `id` of the event (message) this answers.")]
        | None
    ) = None
    reply_to_event_id: (
        Annotated[
            str,
            msgspec.Meta(
                description="Deprecated: the same as `reply_to` (care replies only).",
                extra_json_schema={"deprecated": True},
            ),
        ]
        | None
    ) = None
    case: Annotated[int, msgspec.Meta(description="Member care's case id.")] | None = None


class PostPublishPayload(_InGroup):
    """Publish a post of the content calendar (or a campaign's announcement) in the group."""

    text: Text
    post_id: int
    content_type: Annotated[
        str,
        msgspec.Meta(description="tips, member_story, deal_preview, discussion or custom."),
    ]
    scheduled_at: Annotated[
        str,
        msgspec.Meta(
            description="When it was planned (ISO 8601).", extra_json_schema={"format": "date-time"}
        ),
    ]


class GroupAnnouncePayload(_InGroup):
    """Announce `text` in the group, like a post: a poll or survey (`poll_id`), its results
    when it closes, or the monthly award winners."""

    text: Text
    poll_id: Annotated[int, msgspec.Meta(description="The poll or survey it is about.")] | None = (
        None
    )


class MemberNotifyPayload(_Payload):
    """Tell one member something (a direct message, never in the group): a lottery win, a group
    buy's outcome, their personal link on a keyword, an after-sales follow-up, the leaving
    survey to someone who just left, a group's poster on request. `text` may carry
    the member's personal link (docs/members.md). `community_external_id` is the group it is
    about, when there is one; the other ids say what it is about."""

    text: Text
    user_external_id: UserId
    display_name: Name
    platform: PlatformName
    community_external_id: GroupId | None = None
    campaign_id: int | None = None
    team_id: int | None = None
    order_id: OrderId | None = None
    follow_up_rule: int | None = None
    leaving_id: (
        Annotated[
            int,
            msgspec.Meta(
                description="The leaving survey this asks a member who left to answer: send it "
                "even though they are no longer in the group."
            ),
        ]
        | None
    ) = None
    image_url: (
        Annotated[
            str,
            msgspec.Meta(
                description="An image to send with `text` (a group's QR poster, PNG): fetch it "
                "from this address, which needs no key and works for 7 days."
            ),
        ]
        | None
    ) = None


PAYLOADS: dict[str, type[_Payload]] = {
    ActionKind.WELCOME: MemberWelcomePayload,
    ActionKind.WARN: MemberWarnPayload,
    ActionKind.REMOVE: MemberRemovePayload,
    ActionKind.REMIND: MemberRemindPayload,
    ActionKind.INVITE_BACK: MemberInviteBackPayload,
    ActionKind.REPLY: PostReplyPayload,
    ActionKind.PUBLISH: PostPublishPayload,
    ActionKind.ANNOUNCE: GroupAnnouncePayload,
    ActionKind.NOTIFY: MemberNotifyPayload,
}


class PayloadError(TypeError):
    """A writer built an action whose payload does not match its kind's struct."""


def check(kind: str, payload: dict) -> None:
    try:
        struct = PAYLOADS[kind]
    except KeyError:
        raise PayloadError(f"unknown action kind {kind!r}") from None
    try:
        msgspec.convert(payload, struct, strict=True)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"{kind} payload: {exc}") from None
