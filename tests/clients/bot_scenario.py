"""A short bot, written against the client openapi-python-client generates from the served
schema. Run by tests/clients/test_generated_client.py in the generator's own venv:

    python bot_scenario.py <client folder> <base url> <api key>

Prints one JSON object with what it saw; any exception fails the test."""

import importlib
import json
import pkgutil
import sys
from datetime import UTC, datetime

folder, base_url, key = sys.argv[1:4]
sys.path.insert(0, folder)

import qunyun_client  # noqa: E402

broken = []
modules = 0
for info in pkgutil.walk_packages(qunyun_client.__path__, "qunyun_client."):
    modules += 1
    try:
        importlib.import_module(info.name)
    except Exception as exc:  # noqa: BLE001 - report them all
        broken.append(f"{info.name}: {exc!r}")
if broken:
    print(json.dumps({"modules": modules, "broken": broken}))
    sys.exit(1)

from qunyun_client import AuthenticatedClient  # noqa: E402
from qunyun_client.api.actions import actions_ack_create, actions_list  # noqa: E402
from qunyun_client.api.events import events_create  # noqa: E402
from qunyun_client.api.groups import communities_create, communities_list  # noqa: E402
from qunyun_client.api.metrics import metrics_overview_retrieve  # noqa: E402
from qunyun_client.api.organization import me_retrieve  # noqa: E402
from qunyun_client.models import (  # noqa: E402
    AckRequest,
    AckStatusEnum,
    ActionsListStatus,
    CommunityRequest,
    Error,
    EventBatchRequest,
    MemberJoinedEvent,
    MemberJoinedEventType,
    MemberWelcomeAction,
    MessagePostedEvent,
    MessagePostedEventType,
    OrderPlacedEvent,
    OrderPlacedEventType,
    PlatformEnum,
)

client = AuthenticatedClient(base_url=base_url, token=key, raise_on_unexpected_status=True)
me = me_retrieve.sync(client=client)

group = communities_create.sync(
    client=client,
    body=CommunityRequest(
        name="生成客户端群", platform=PlatformEnum.WECHAT, external_id="wx-gen-1"
    ),
)
found = communities_list.sync(client=client, platform=PlatformEnum.WECHAT, external_id="wx-gen-1")

now = datetime.now(UTC)
result = events_create.sync(
    client=client,
    body=EventBatchRequest(
        events=[
            MemberJoinedEvent(
                type_=MemberJoinedEventType.MEMBER_JOINED,
                id="gen-1",
                occurred_at=now,
                community="wx-gen-1",
                user="wxid-gen",
                display_name="小李",
            ),
            MessagePostedEvent(
                type_=MessagePostedEventType.MESSAGE_POSTED,
                id="gen-2",
                occurred_at=now,
                community="wx-gen-1",
                user="wxid-gen",
                text="大家好",
                length=3,
            ),
            OrderPlacedEvent(
                type_=OrderPlacedEventType.ORDER_PLACED,
                id="gen-3",
                occurred_at=now,
                community="wx-gen-1",
                user="wxid-gen",
                order_id="SO-1",
                amount="59.90",
            ),
        ]
    ),
)

page = actions_list.sync(client=client, status=ActionsListStatus.PENDING, limit=10)
welcomes = [a for a in page.results if isinstance(a, MemberWelcomeAction)]
acked = actions_ack_create.sync(
    client=client, id=welcomes[0].id, body=AckRequest(status=AckStatusEnum.DONE, detail="posted")
)
conflict = actions_ack_create.sync_detailed(
    client=client, id=welcomes[0].id, body=AckRequest(status=AckStatusEnum.FAILED)
)
overview = metrics_overview_retrieve.sync(client=client)

print(
    json.dumps(
        {
            "modules": modules,
            "organization": me.organization.slug,
            "group": group.id,
            "found": [c.id for c in found.results],
            "accepted": result.accepted,
            "rejected": len(result.rejected),
            "lease_seconds": page.lease_seconds,
            "welcome_to": welcomes[0].payload.user_external_id,
            "welcome_text": bool(welcomes[0].payload.text),
            "acked": str(acked.status),
            "conflict": [int(conflict.status_code), isinstance(conflict.parsed, Error)],
            "conflict_code": conflict.parsed.error.code,
            "overview_groups": len(overview.rows),
        }
    )
)
