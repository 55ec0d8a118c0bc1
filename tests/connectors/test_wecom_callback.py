"""WeCom's callback: the signature and the AES encryption, with vectors built here from the
documented algorithm (tests/connectors/fake_wecom.py), and every way a call can be wrong
answered with a 403, 400 or 404, never a 500 and never read."""

import base64
import hashlib
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from connectors.wecom import crypto
from connectors.wecom import services as wecom_services
from members.models import Membership
from tenancy.scope import org_scope

from .conftest import wecom_connect
from .fake_wecom import AES_KEY, CORP_ID, TOKEN, chat_event, encrypt, envelope, sign, signed_query

pytestmark = pytest.mark.django_db

CHAT = "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"


def _url(conn, **query):
    path = reverse(
        "wecom-callback",
        kwargs={"org_id": conn.organization_id, "path_secret": wecom_services.path_secret(conn)},
    )
    return f"{path}?{urlencode(query)}"


def _post(client, conn, xml, query=None):
    encrypted = encrypt(xml)
    query = query or signed_query(encrypted)
    return client.post(_url(conn, **query), data=envelope(encrypted), content_type="text/xml")


# --- the algorithm ---------------------------------------------------------------------------


def test_the_signature_is_sha1_of_the_sorted_four_values():
    joined = "".join(sorted([TOKEN, "1409659813", "263014780", "enc"]))
    expected = hashlib.sha1(joined.encode())  # noqa: S324 - WeCom's scheme
    assert crypto.signature(TOKEN, "1409659813", "263014780", "enc") == expected.hexdigest()
    assert sign(TOKEN, "1409659813", "263014780", "enc") == expected.hexdigest()


def test_a_message_encrypted_as_documented_decrypts_for_its_corp():
    message = "<xml><Content><![CDATA[你好 hello]]></Content></xml>"
    encrypted = encrypt(message)
    assert len(base64.b64decode(encrypted)) % 32 == 0  # padded to 32-byte blocks
    assert crypto.decrypt(AES_KEY, encrypted, CORP_ID) == message
    # a message of exactly a block's multiple gets a whole block of padding (32 × 0x20)
    exact = "x" * (64 - 20 - len(CORP_ID) - 16 + 32)
    assert crypto.decrypt(AES_KEY, encrypt(exact), CORP_ID) == exact


@pytest.mark.parametrize(
    ("encrypted", "reason"),
    [
        (encrypt("<xml/>", receive_id="wwsomeoneelse"), "receive_id"),
        (encrypt("<xml/>", pad=0), "padding"),
        (encrypt("<xml/>", pad=40), "padding"),
        ("not base64 at all!", "base64"),
        (base64.b64encode(b"short").decode(), "length"),
    ],
    # the encryption draws a random prefix: named ids keep the collection the same everywhere
    ids=["other-corp", "no-padding", "padding-too-long", "not-base64", "too-short"],
)
def test_a_payload_that_is_not_for_this_corp_is_refused(encrypted, reason):
    with pytest.raises(crypto.Refused) as refused:
        crypto.decrypt(AES_KEY, encrypted, CORP_ID)
    assert refused.value.status == 400 and refused.value.reason == reason


def test_a_wrong_signature_is_refused_with_403():
    with pytest.raises(crypto.Refused) as refused:
        crypto.verify(TOKEN, "1", "2", "enc", "0" * 40)
    assert refused.value.status == 403


# --- the address -----------------------------------------------------------------------------


def test_wecom_verifies_the_address_with_an_echostr(org_a, wecom_a):
    echostr = encrypt("1616140317555161061")
    query = {**signed_query(echostr), "echostr": echostr}
    response = org_a.client_for(org_a.owner).get(_url(wecom_a, **query))
    assert response.status_code == 200 and response.content == b"1616140317555161061"


def test_a_wrong_signature_on_the_echostr_is_403(client, wecom_a):
    echostr = encrypt("123")
    query = {**signed_query(echostr, token="AnotherToken"), "echostr": echostr}
    assert client.get(_url(wecom_a, **query)).status_code == 403


def test_an_event_is_applied_only_with_the_right_signature_and_corp(client, org_a, wecom_a):
    xml = chat_event(CHAT, "dismiss")
    encrypted = encrypt(xml)
    bad = {**signed_query(encrypted), "msg_signature": "f" * 40}
    response = client.post(_url(wecom_a, **bad), data=envelope(encrypted), content_type="text/xml")
    assert response.status_code == 403

    for wrong in (encrypt(xml, receive_id="wwanothercorp"), encrypt(xml, pad=0)):
        response = client.post(
            _url(wecom_a, **signed_query(wrong)), data=envelope(wrong), content_type="text/xml"
        )
        assert response.status_code == 400

    for body in ("<xml><Encrypt>", "<xml></xml>", "<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>"):
        response = client.post(
            _url(wecom_a, **signed_query("")), data=body, content_type="text/xml"
        )
        assert response.status_code == 400

    response = _post(client, wecom_a, xml)
    assert response.status_code == 200 and response.content == b"success"


def test_a_wrong_path_or_another_organizations_id_is_404(client, org_a, org_b, wecom_api):
    conn_a = wecom_connect(org_a.org)
    conn_b = wecom_connect(org_b.org)
    xml = chat_event(CHAT, "dismiss")
    encrypted = encrypt(xml)
    query = urlencode(signed_query(encrypted))
    a_secret = wecom_services.path_secret(conn_a)
    b_path = reverse("wecom-callback", kwargs={"org_id": conn_b.organization_id,
                                                "path_secret": a_secret})  # fmt: skip
    assert client.post(f"{b_path}?{query}", envelope(encrypted), "text/xml").status_code == 404
    wrong = reverse("wecom-callback", kwargs={"org_id": conn_a.organization_id,
                                               "path_secret": "x" * 40})  # fmt: skip
    assert client.post(f"{wrong}?{query}", envelope(encrypted), "text/xml").status_code == 404


def test_text_where_ascii_is_expected_is_refused_not_a_500(client, org_a, wecom_a):
    encrypted = encrypt(chat_event(CHAT, "dismiss"))
    query = {**signed_query(encrypted), "msg_signature": "签名不对"}
    response = client.post(_url(wecom_a, **query), envelope(encrypted), "text/xml")
    assert response.status_code == 403
    odd = reverse("wecom-callback", kwargs={"org_id": org_a.org.pk, "path_secret": "路径"})
    assert client.post(odd, envelope(encrypted), "text/xml").status_code == 404
    query = signed_query("密文")
    response = client.post(_url(wecom_a, **query), envelope("密文"), "text/xml")
    assert response.status_code == 400


def test_a_connection_turned_off_answers_nothing(client, org_a, wecom_a):
    url = _url(wecom_a)
    with org_scope(org_a.org):
        wecom_services.wecom_disconnect(actor=org_a.actor())
    assert client.post(url, envelope(encrypt("<xml/>")), "text/xml").status_code == 404


def test_a_join_event_becomes_a_membership(client, org_a, wecom_api, wecom_a):
    wecom_api.add_group(CHAT, "健康优选客户群", "staff-zhang", [("wmCustomer1", "小李", 2, 3)])
    response = _post(client, wecom_a, chat_event(CHAT, "update", "add_member", join_scene=3,
                                                 members=["wmCustomer1"]))  # fmt: skip
    assert response.status_code == 200
    membership = Membership.objects.for_org(org_a.org).get()
    assert membership.identity.external_user_id == "wmCustomer1"
    assert membership.identity.display_name == "小李"
    assert membership.community.name == "健康优选客户群"
    assert membership.community.platform == "wecom"
