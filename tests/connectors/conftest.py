import pytest

from connectors.telegram import services
from integrations.telegram_webapp import telegram_token_set
from tenancy.actors import Actor
from tenancy.scope import org_scope

from .fake_telegram import FakeBotApi

TOKEN_A = "7000001:AAAA-token-of-organization-a-xxxxxxxx"
TOKEN_B = "7000002:BBBB-token-of-organization-b-yyyyyyyy"


@pytest.fixture
def bot_api(settings):
    api = FakeBotApi().start()
    settings.TELEGRAM_API_BASE_URL = api.base_url
    settings.TELEGRAM_REQUEST_TIMEOUT = 5.0
    yield api
    api.stop()


def connect(org, token, mode="polling"):
    actor = Actor.system(org, "tests")
    with org_scope(org):
        telegram_token_set(actor=actor, token=token)
        return services.telegram_connect(actor=actor, mode=mode)


@pytest.fixture
def polling_a(org_a, bot_api):
    return connect(org_a.org, TOKEN_A)


@pytest.fixture
def wecom_api(settings):
    from django.core.cache import cache

    from .fake_wecom import FakeWeCom

    api = FakeWeCom().start()
    settings.WECOM_API_BASE_URL = api.base_url
    settings.WECOM_REQUEST_TIMEOUT = 5.0
    cache.clear()
    yield api
    api.stop()


def wecom_connect(org, corp_id=None, secret=None):
    from connectors.wecom import services as wecom_services

    from .fake_wecom import AES_KEY, CORP_ID, SECRET, TOKEN

    with org_scope(org):
        return wecom_services.wecom_connect(
            actor=Actor.system(org, "tests"),
            corp_id=corp_id or CORP_ID,
            agent_id="1000002",
            secret=secret or SECRET,
            token=TOKEN,
            aes_key=AES_KEY,
        )


@pytest.fixture
def wecom_a(org_a, wecom_api):
    return wecom_connect(org_a.org)
