from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from config.logging import redact
from rostering import crypto
from rostering.models import District


@pytest.mark.django_db
def test_district_token_is_encrypted_at_rest():
    district = District(clever_id="d1", name="Demo")
    district.set_token("tok-very-secret-123")
    district.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token_ciphertext FROM rostering_district WHERE id = %s", [district.pk]
        )
        (stored,) = cursor.fetchone()
    assert "tok-very-secret-123" not in stored
    assert District.objects.get(pk=district.pk).token == "tok-very-secret-123"


@pytest.mark.django_db
def test_token_keys_rotate(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    ciphertext = crypto.encrypt("tok")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(ciphertext) == "tok"
    rotated = crypto.rotate(ciphertext)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "tok"
    with pytest.raises(Exception, match="FIELD_ENCRYPTION_KEYS"):
        crypto.decrypt(ciphertext)


@pytest.mark.parametrize(
    "line",
    [
        "GET /sso/clever/callback/?code=abc123&state=s3cr3t HTTP/1.1",
        "POST body grant_type=authorization_code&code=abc123",
        "headers Authorization: Bearer abc123",
        'response {"access_token": "abc123", "token_type": "bearer"}',
        "Authorization: Basic abc123==",
    ],
)
def test_log_lines_never_carry_codes_or_tokens(line):
    assert "abc123" not in redact(line)
    assert "s3cr3t" not in redact(line)


def test_redaction_filter_is_on_the_console_handler(caplog):
    logger = logging.getLogger("tests.redaction")
    handler = next(h for h in logging.getLogger().handlers if h.filters)
    record = logger.makeRecord("x", logging.INFO, __file__, 1, "code=%s", ("abc123",), None)
    handler.filter(record)
    assert "abc123" not in record.getMessage()
