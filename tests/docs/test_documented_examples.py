"""The examples in the docs are run against a live test server, as written.

In docs/*.md, a fenced block whose info string is `sh test` or `python test` is an example:
- `sh test` blocks of one document run in order in one bash (variables carry over), with
  QUNYUN_URL and QUNYUN_KEY set, `set -euo pipefail`; a comment line `# → text` says what the
  command before it prints (each must appear, in order, in that block's output);
- `python test` blocks run with the placeholders the docs use replaced by the live server's
  address, the key and a webhook secret.
The reference tables between `<!-- api-docs … -->` markers must be what `manage.py api_docs`
writes from the OpenAPI document."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from config.celery import app
from integrations import delivery, outbox
from integrations.models import ActionKind
from tenancy.actors import Actor
from tenancy.services import api_key_create, organization_create

from ..factories import CommunityFactory, member_payload

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```(sh|python) test\n(.*?)^```", re.S | re.M)
URL, KEY, WHSEC = "https://qunyun.example.com", "qy_1a2b3c4d_…", "whsec_…"


def _blocks(name: str, language: str) -> list[str]:
    text = (DOCS / name).read_text(encoding="utf-8")
    return [body for lang, body in BLOCK.findall(text) if lang == language]


def test_the_reference_tables_are_what_the_schema_says():
    call_command("api_docs", "--check")


@pytest.fixture
def bot(live_server, request):
    slug = "docs-" + request.node.name[-12:].replace("_", "-")
    org = organization_create(name="文档示例", slug=slug, owner_email=f"{slug}@example.com")
    _key, raw = api_key_create(actor=Actor.system(org), name="docs bot")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the member import runs in the request, no worker
    yield org, live_server.url, raw
    app.conf.task_always_eager = eager


def _run_shell_examples(name, url, key, tmp_path):
    blocks = _blocks(name, "sh")
    assert blocks, name
    script = ["set -euo pipefail"]
    for number, block in enumerate(blocks):
        script += [f"echo '::block {number}::'", block]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "QUNYUN_URL": url, "QUNYUN_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = re.split(r"^::block \d+::\n", result.stdout, flags=re.M)[1:]
    assert len(outputs) == len(blocks)
    for block, output in zip(blocks, outputs, strict=True):
        expected = [line[4:] for line in block.splitlines() if line.startswith("# → ")]
        lines = output.splitlines()
        position = 0
        for want in expected:
            assert want in lines[position:], f"{name}: {want!r} not in\n{output}"
            position = lines.index(want, position) + 1


@pytest.mark.django_db(transaction=True)
def test_the_integration_guide_examples_run(bot, tmp_path):
    org, url, key = bot
    _run_shell_examples("integrations.md", url, key, tmp_path)
    requests_block, webhook_block = _blocks("integrations.md", "python")
    namespace = {}
    exec(requests_block.replace(URL, url).replace(KEY, key), namespace)  # noqa: S102

    # The webhook handler, given a real delivery of a real endpoint.
    endpoint, secret = delivery.endpoint_create(
        actor=Actor.system(org), url="https://bot.example.com/hook"
    )
    handler = {}
    exec(webhook_block.replace(WHSEC, delivery.standard_webhooks_secret(secret)), handler)  # noqa: S102
    group = CommunityFactory(organization=org)
    payload = {k: v for k, v in member_payload("欢迎").items() if k != "community_external_id"}
    outbox.enqueue(organization=org, kind=ActionKind.WELCOME, community=group, **payload)
    sent = []

    def opener(target, body, headers, timeout):  # integrations.netguard.post's signature
        sent.append((body, {name.lower(): value for name, value in headers.items()}))
        return 200

    delivery.schedule_deliveries(org)
    delivery.deliver_due(org, opener=opener)
    body, headers = sent[-1]
    action = handler["handle_webhook"](body, headers)
    assert action["kind"] == "member.welcome" and action["payload"]["text"] == "欢迎"
    assert json.loads(body) == action


@pytest.mark.django_db(transaction=True)
def test_the_members_api_examples_run(bot, tmp_path):
    _org, url, key = bot
    _run_shell_examples("members-api.md", url, key, tmp_path)
