"""OpenID Connect for the look-alike: one RSA key per process, its JWKS, RS256 id_tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_lock = threading.Lock()
_key: rsa.RSAPrivateKey | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def private_key() -> rsa.RSAPrivateKey:
    """The process's signing key, generated on first use."""
    global _key
    with _lock:
        if _key is None:
            _key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _key


def jwk() -> dict[str, str]:
    """The public key as a JWK (with a kid derived from the modulus)."""
    numbers = private_key().public_key().public_numbers()
    n = _int_b64(numbers.n)
    kid = hashlib.sha256(n.encode()).hexdigest()[:16]
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": n,
        "e": _int_b64(numbers.e),
    }


def jwks() -> dict[str, list[dict[str, str]]]:
    """The JWKS document served at the discovery document's jwks_uri."""
    return {"keys": [jwk()]}


def sign(claims: dict[str, Any]) -> str:
    """An RS256 JWT of ``claims`` signed with the process key."""
    header = {"alg": "RS256", "typ": "JWT", "kid": jwk()["kid"]}
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    )
    signature = private_key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def discovery(base_url: str) -> dict[str, Any]:
    """The OpenID Provider configuration; the issuer is the look-alike's base URL."""
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/tokens",
        "userinfo_endpoint": f"{base_url}/userinfo",
        "jwks_uri": f"{base_url}/oauth/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "iat",
            "exp",
            "nonce",
            "user_id",
            "user_type",
            "district",
            "multi_role_user_id",
            "email",
            "email_verified",
            "given_name",
            "family_name",
        ],
    }
