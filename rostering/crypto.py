"""Encryption at rest for district tokens (Fernet, keys from settings, rotatable)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a urlsafe-base64 32-byte Fernet key."
        ) from exc


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Ciphertext for ``plaintext`` under the first configured key."""
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Plaintext of ``ciphertext`` under any configured key."""
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored district token cannot be decrypted with FIELD_ENCRYPTION_KEYS: "
            "was a key removed before rotation finished?"
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt ``ciphertext`` under the first (newest) key."""
    return _current().rotate(ciphertext.encode()).decode()
