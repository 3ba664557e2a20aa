"""One exception family for every call to Clever, whichever facade made it.

``where`` names the call ("GET /v3.0/sections page 3", "code exchange") so a run or a log line
says where it stopped. Retrying helps only for ``CleverTransientError`` (and its
``CleverRateLimited``); everything else is permanent.
"""

from __future__ import annotations


class CleverError(Exception):
    """A call to Clever failed; ``where`` says which call."""

    def __init__(self, message: str, *, status: int | None = None, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class CleverTransientError(CleverError):
    """Worth retrying later: 5xx, timeouts, connection errors, HTML or non-JSON bodies."""


class CleverRateLimited(CleverTransientError):
    """429, and the window resets later than we are willing to wait."""


class CleverPermanentError(CleverError):
    """Retrying will not help: 4xx, malformed payloads, a next link that does not advance."""


class CleverUnauthorized(CleverPermanentError):
    """401: the token was revoked or is unknown, or the app credentials are wrong."""


class CleverNotFound(CleverPermanentError):
    """404: wrong token, or the record is not (or no longer) shared."""


class CleverInvalidGrant(CleverPermanentError):
    """The authorization code was already used, expired, or never issued (400 invalid_grant)."""


class IdTokenInvalid(CleverPermanentError):
    """The OIDC id_token failed validation (signature, issuer, audience, expiry or nonce)."""


class CleverMalformedError(CleverPermanentError):
    """A payload or record is not shaped as Clever documents; names the record and the field."""

    def __init__(
        self, message: str, *, record_type: str = "", clever_id: str = "", where: str = ""
    ) -> None:
        super().__init__(message, where=where)
        self.record_type = record_type
        self.clever_id = clever_id
