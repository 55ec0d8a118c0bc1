import pytest
from django.utils import timezone

from communities.models import StaffAssignment
from engagement import services
from tests.factories import CommunityFactory
from tests.members.conftest import ev  # noqa: F401 - shared event builder
from tests.portal.conftest import make_member

__all__ = ["ev"]


@pytest.fixture
def group(org_a):
    """A group whose deputy is org_a.deputy (external id g1, like the ingestion tests)."""
    community = CommunityFactory(organization=org_a.org, name="健康交流1群", external_id="g1")
    StaffAssignment.objects.create(
        organization=org_a.org, community=community, user=org_a.deputy, role="deputy"
    )
    return community


@pytest.fixture
def other_group(org_a):
    return CommunityFactory(organization=org_a.org, name="健康交流2群", external_id="g2")


@pytest.fixture
def people(org_a, group):
    """Three members of the group: 甲 (u1), 乙 (u2), 丙 (u3)."""
    return [
        make_member(org_a.org, group, name, user_id=f"u{n}")
        for n, name in enumerate(["甲", "乙", "丙"], start=1)
    ]


def create_poll(actor, groups, *, kind="poll", multiple=False, hours=24, **extra):
    questions = extra.pop(
        "questions",
        [{"kind": "multiple" if multiple else "single", "choices": ["红枣", "枸杞", "桂圆"]}],
    )
    return services.poll_create(
        actor=actor,
        kind=kind,
        title=extra.pop("title", "下次团购选哪个？"),
        communities=groups,
        closes_at=timezone.now() + timezone.timedelta(hours=hours),
        questions=questions,
        **extra,
    )


@pytest.fixture
def poll(org_a, group):
    return create_poll(org_a.actor(), [group])


def choice_ids(poll) -> list[int]:
    from engagement.models import Choice

    return list(
        Choice.objects.for_org(poll.organization).filter(poll=poll).values_list("pk", flat=True)
    )


def first_question(poll):
    from engagement.models import Question

    return Question.objects.for_org(poll.organization).filter(poll=poll).first()
