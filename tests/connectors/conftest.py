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
