"""The team side's rows about a member (award nominations), for the members app's privacy
export and erasure and for merging two members (registered on `members.hooks`)."""

from members.hooks import PrivacySection

from .models import Nominee


def privacy_sections(*, org, member) -> list:
    return [
        PrivacySection(
            "award_nominations",
            Nominee.objects.for_org(org).filter(member=member),
            fields=["round_id", "award", "community_id", "rank", "figures", "is_winner"],
        )
    ]


def member_merged(*, org, from_member, to_member) -> None:
    """A merged-away member's nominations move to the surviving member."""
    Nominee.objects.for_org(org).filter(member=from_member).update(member=to_member)
