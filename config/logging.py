"""A logging filter that redacts OAuth codes, tokens and secrets from every log line."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # query strings and form bodies: code=..., access_token=..., state=..., id_token=...
    re.compile(
        r"(?i)\b(code|access_token|id_token|refresh_token|client_secret|token|state|password)"
        r"=[^&\s\"']+"
    ),
    # JSON-ish: "access_token": "..."
    re.compile(
        r"(?i)([\"'](?:access_token|id_token|client_secret|token|code)[\"']\s*:\s*)[\"'][^\"']*[\"']"
    ),
    # Authorization headers
    re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"),
]


def redact(text: str) -> str:
    """Return ``text`` with codes, tokens and secrets replaced by ``[redacted]``."""
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}=[redacted]", text)
    text = _PATTERNS[1].sub(lambda m: f'{m.group(1)}"[redacted]"', text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)} [redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
