"""The look-alike's OAuth: authorize, single-use 60 s codes, HTTP Basic, token list, OIDC."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.lookalike.helpers import CLIENT, REDIRECT_URI, api, authorize, exchange, login, query_of


@pytest.fixture
def tara(clever) -> dict:
    d = clever.world.district_named("Certification ISD")
    return next(u for u in clever.world.users(d.id) if u["name"]["last"] == "Teamwork")


def test_login_as_redirects_with_code_and_state_and_me_names_the_user(clever, tara) -> None:
    response = authorize(clever, login_as=tara["id"], state="xyz")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == "xyz" and params["code"]
    token = exchange(clever, params["code"])
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    me = api(clever, body["access_token"], "/v3.0/me").json()
    assert me["type"] == "teacher"
    assert me["data"]["id"] == tara["id"] and me["data"]["district"] == tara["district"]
    assert {"rel": "canonical", "uri": f"/v3.0/users/{tara['id']}"} in me["links"]


def test_a_code_is_single_use(clever, tara) -> None:
    code = query_of(authorize(clever, login_as=tara["id"]).headers["Location"])["code"]
    assert exchange(clever, code).status_code == 200
    again = exchange(clever, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_code_expires_after_60_seconds(clever, tara) -> None:
    code = clever.world.issue_code(tara["id"], redirect_uri=REDIRECT_URI)
    clever.world.advance(61)
    expired = exchange(clever, code)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    fresh = clever.world.issue_code(tara["id"], redirect_uri=REDIRECT_URI)
    clever.world.advance(59)
    assert exchange(clever, fresh).status_code == 200


def test_unknown_code_and_mismatched_redirect_uri_are_invalid_grant(clever, tara) -> None:
    assert exchange(clever, "made-up").json()["error"] == "invalid_grant"
    code = clever.world.issue_code(tara["id"], redirect_uri=REDIRECT_URI)
    other = exchange(clever, code, redirect_uri="http://testserver/elsewhere/")
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"


def test_code_exchange_requires_http_basic(clever, tara) -> None:
    code = clever.world.issue_code(tara["id"])
    in_form = requests.post(
        clever.base_url + "/oauth/tokens",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
        },
        timeout=10,
    )
    assert in_form.status_code == 401 and in_form.json()["error"] == "invalid_client"
    wrong = exchange(clever, code, auth=(CLIENT[0], "wrong-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    # The failed attempts did not burn the code.
    assert exchange(clever, code).status_code == 200


def test_redirect_uri_must_be_registered(clever, tara) -> None:
    response = authorize(clever, login_as=tara["id"], redirect_uri="https://evil.example/cb")
    assert response.status_code == 400
    assert "is not registered" in response.text
    assert "Location" not in response.headers


def test_unknown_client_and_unknown_user_get_an_error_page(clever) -> None:
    assert authorize(clever, client_id="nobody").status_code == 400
    response = authorize(clever, login_as="000000000000000000000000")
    assert response.status_code == 400 and "no shared user" in response.text


def test_as_role_picks_the_login_type_of_a_multi_role_user(clever) -> None:
    d = clever.world.district_named("Certification ISD")
    avery = next(u for u in clever.world.users(d.id) if u["name"]["last"] == "Adminteacher")
    assert set(avery["roles"]) == {"teacher", "district_admin"}
    token = login(clever, avery["id"], as_role="district_admin")["access_token"]
    assert api(clever, token, "/v3.0/me").json()["type"] == "district_admin"
    assert authorize(clever, login_as=avery["id"], as_role="student").status_code == 400


def test_token_list_gives_connected_districts_tokens(clever) -> None:
    world = clever.world
    listing = requests.get(
        clever.base_url + "/oauth/tokens",
        params={"owner_type": "district"},
        auth=CLIENT,
        timeout=10,
    )
    assert listing.status_code == 200
    owners = {t["owner"]["id"]: t["access_token"] for t in listing.json()["data"]}
    assert owners == {d.id: d.token for d in world.districts.values()}
    cert = world.district_named("Certification ISD")
    one = requests.get(
        clever.base_url + "/oauth/tokens",
        params={"owner_type": "district", "district": cert.id},
        auth=CLIENT,
        timeout=10,
    ).json()["data"]
    assert [t["owner"] for t in one] == [{"type": "district", "id": cert.id}]

    world.disconnect(cert.id)
    after = requests.get(clever.base_url + "/oauth/tokens", auth=CLIENT, timeout=10).json()
    assert cert.id not in {t["owner"]["id"] for t in after["data"]}
    assert api(clever, cert.token, "/v3.0/schools").status_code == 401
    assert requests.get(clever.base_url + "/oauth/tokens", timeout=10).status_code == 401


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_no_id_token_for_an_app_without_oidc(clever, tara) -> None:
    clever.world.default_app().oidc = False
    assert "id_token" not in login(clever, tara["id"])


def test_id_token_is_signed_with_the_published_key_and_carries_the_claims(clever, tara) -> None:
    clever.world.default_app().oidc = True  # Clever's support enabled OIDC for this app
    discovery = requests.get(
        clever.base_url + "/.well-known/openid-configuration", timeout=10
    ).json()
    assert discovery["issuer"] == clever.base_url
    jwk = requests.get(discovery["jwks_uri"], timeout=10).json()["keys"][0]
    body = login(clever, tara["id"], nonce="n-123")
    header_b64, payload_b64, signature_b64 = body["id_token"].split(".")
    assert json.loads(_b64decode(header_b64))["alg"] == "RS256"
    public = rsa.RSAPublicNumbers(
        int.from_bytes(_b64decode(jwk["e"]), "big"), int.from_bytes(_b64decode(jwk["n"]), "big")
    ).public_key()
    public.verify(  # raises InvalidSignature when wrong
        _b64decode(signature_b64),
        f"{header_b64}.{payload_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    claims = json.loads(_b64decode(payload_b64))
    assert claims["iss"] == clever.base_url and claims["aud"] == CLIENT[0]
    assert claims["sub"] == tara["id"] == claims["multi_role_user_id"]
    assert claims["user_id"] != claims["sub"]  # pre-v3 id differs: key on sub
    assert claims["nonce"] == "n-123" and claims["exp"] - claims["iat"] == 3600
    assert claims["user_type"] == "teacher" and claims["district"] == tara["district"]
    assert claims["email"] == tara["email"]
    assert (claims["given_name"], claims["family_name"]) == ("Tara", "Teamwork")


def test_userinfo_gives_the_login_context(clever, tara) -> None:
    token = login(clever, tara["id"])["access_token"]
    info = api(clever, token, "/userinfo").json()
    assert info["sub"] == tara["id"] and info["user_type"] == "teacher"
    assert info["district"] == tara["district"] and info["schools"]


def test_portal_login_has_no_state_and_lands_on_the_primary_redirect_uri(clever, tara) -> None:
    clever.world.register_app(
        CLIENT[0], CLIENT[1], [REDIRECT_URI, "http://testserver/other/callback/"]
    )
    page = requests.get(clever.base_url + "/portal", params={"user": tara["id"]}, timeout=10)
    assert page.status_code == 200 and "Tara Teamwork" in page.text
    launch = requests.get(
        clever.base_url + "/portal/launch",
        params={"client_id": CLIENT[0], "user": tara["id"], "as_role": "teacher"},
        allow_redirects=False,
        timeout=10,
    )
    assert launch.status_code == 302
    location = launch.headers["Location"]
    assert location.startswith(REDIRECT_URI) and "state" not in query_of(location)
    assert exchange(clever, query_of(location)["code"]).status_code == 200


def test_instant_login_link_logs_in_without_state(clever, tara) -> None:
    response = requests.get(
        clever.base_url + "/oauth/instant-login",
        params={"client_id": CLIENT[0], "district_id": tara["district"], "login_as": tara["id"]},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert "state" not in params and exchange(clever, params["code"]).status_code == 200
