"""The WeCom connection page: who may see and change it, connecting from it, the secrets
written once, and what WeCom's API cannot do said on the page and on the group's pages."""

import pytest
from django.urls import reverse
from django.utils import translation

from communities.models import Community
from connectors.models import WeComConnection
from integrations.models import BotCredential

from .fake_wecom import AES_KEY, CORP_ID, SECRET, TOKEN

pytestmark = pytest.mark.django_db

FORM = {
    "mode": "callback",
    "corp_id": CORP_ID,
    "agent_id": "1000002",
    "secret": SECRET,
    "token": TOKEN,
    "aes_key": AES_KEY,
}


def _url(tenant):
    return reverse("wecom-connector", args=[tenant.org.slug])


def test_the_owner_connects_and_the_secrets_are_shown_once(org_a, wecom_api):
    client = org_a.client_for(org_a.owner)
    assert client.get(_url(org_a)).status_code == 200
    response = client.post(_url(org_a), FORM)
    assert response.status_code == 302
    conn = WeComConnection.objects.for_org(org_a.org).get()
    assert conn.state == "ok" and conn.corp_id == CORP_ID
    credential = BotCredential.objects.for_org(org_a.org).get(platform="wecom")
    assert SECRET not in credential.sealed_secret and TOKEN not in credential.sealed_secret
    page = client.get(_url(org_a)).content.decode()
    assert SECRET not in page and TOKEN not in page and AES_KEY not in page
    assert "…" + SECRET[-4:] in page
    assert (
        'data-testid="wecom-callback-url"' in page and f"/connectors/wecom/{org_a.org.pk}/" in page
    )
    # saving again with the secret fields empty keeps the stored secrets and the address
    url_before = page.split('data-testid="wecom-callback-url">')[1].split("<")[0]
    again = {**FORM, "secret": "", "token": "", "aes_key": ""}
    assert client.post(_url(org_a), again).status_code == 302
    page = client.get(_url(org_a)).content.decode()
    assert url_before in page
    assert BotCredential.objects.for_org(org_a.org).filter(platform="wecom").count() == 1


def test_a_secret_wecom_refuses_is_a_form_error_and_nothing_is_saved(org_a, wecom_api):
    translation.activate("en")
    client = org_a.client_for(org_a.owner)
    response = client.post(_url(org_a), {**FORM, "secret": "not-the-secret-at-all"})
    assert response.status_code == 400 and "40001" in response.content.decode()
    assert not WeComConnection.objects.for_org(org_a.org).exists()
    assert not BotCredential.objects.for_org(org_a.org).filter(platform="wecom").exists()


def test_a_malformed_key_is_a_form_error_before_wecom_is_asked(org_a, wecom_api):
    response = org_a.client_for(org_a.owner).post(_url(org_a), {**FORM, "aes_key": "short"})
    assert response.status_code == 400
    assert wecom_api.calls == []


def test_read_only_and_staff_may_not_change_it_outsiders_see_nothing(org_a, wecom_api):
    for user in (org_a.analyst, org_a.deputy):
        client = org_a.client_for(user)
        assert client.get(_url(org_a)).status_code == 403
        assert client.post(_url(org_a), FORM).status_code == 403
    assert org_a.client_for(org_a.outsider).get(_url(org_a)).status_code == 404
    assert wecom_api.calls == []


def test_the_page_and_a_wecom_groups_rules_page_say_what_wecom_cannot_do(org_a, wecom_api):
    translation.activate("en")
    client = org_a.client_for(org_a.owner)
    assert 'data-testid="wecom-limits"' in client.get(_url(org_a)).content.decode()
    group = Community.objects.create(
        organization=org_a.org, platform="wecom", external_id="wrChat", name="客户群"
    )
    for name in ("community-rules", "community-detail"):
        page = client.get(reverse(name, args=[org_a.org.slug, group.pk])).content.decode()
        assert 'data-testid="wecom-limits"' in page
