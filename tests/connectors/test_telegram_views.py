"""The Telegram connection page: who may see and change it, connecting from it."""

import pytest
from django.urls import reverse

from connectors.models import TelegramConnection
from integrations.telegram_webapp import telegram_token_set

from .conftest import TOKEN_A

pytestmark = pytest.mark.django_db


def _url(tenant):
    return reverse("telegram-connector", args=[tenant.org.slug])


def test_the_owner_connects_by_long_polling_from_the_page(org_a, bot_api):
    telegram_token_set(actor=org_a.actor(), token=TOKEN_A)
    client = org_a.client_for(org_a.owner)
    page = client.get(_url(org_a))
    assert page.status_code == 200 and "…" + TOKEN_A[-4:] in page.content.decode()
    response = client.post(_url(org_a), {"mode": "polling"})
    assert response.status_code == 302
    conn = TelegramConnection.objects.for_org(org_a.org).get()
    assert conn.mode == "polling" and conn.bot_username == "qunyun_test_bot"
    page = client.get(_url(org_a)).content.decode()
    assert "@qunyun_test_bot" in page


def test_without_a_token_the_form_says_so_and_nothing_is_called(org_a, bot_api):
    response = org_a.client_for(org_a.owner).post(_url(org_a), {"mode": "polling"})
    assert response.status_code == 400
    assert not TelegramConnection.objects.for_org(org_a.org).exists()
    assert bot_api.calls == []


def test_a_token_telegram_refuses_is_a_form_error(org_a, bot_api):
    telegram_token_set(actor=org_a.actor(), token=TOKEN_A)
    bot_api.fail("getMe", 401, "Unauthorized")
    response = org_a.client_for(org_a.owner).post(_url(org_a), {"mode": "polling"})
    assert response.status_code == 400 and "BotFather" in response.content.decode()
    assert not TelegramConnection.objects.for_org(org_a.org).exists()


def test_read_only_and_staff_may_not_change_it_outsiders_see_nothing(org_a, bot_api):
    for user in (org_a.analyst, org_a.deputy):
        client = org_a.client_for(user)
        assert client.get(_url(org_a)).status_code == 403
        assert client.post(_url(org_a), {"mode": "polling"}).status_code == 403
    assert org_a.client_for(org_a.outsider).get(_url(org_a)).status_code == 404
    assert bot_api.calls == []
