"""Log someone in with Clever: redeem the code once, learn who they are, admit them, record it."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from accounts.selectors import user_by_clever_id
from accounts.services import user_from_clever
from clever import errors, identity, records, usertypes
from rostering.connections import district_ensure_connected
from rostering.roles import user_roles_refresh
from sso import login_sql
from sso.gates import login_block_reason
from sso.models import LoginRefusal, RedeemedCode

if TYPE_CHECKING:
    from accounts.models import User
    from rostering.models import District
    from sso.flows import Flow

logger = logging.getLogger(__name__)


class LoginFailure(Exception):
    """A login that cannot complete; ``kind`` picks the friendly page, ``context`` fills it."""

    def __init__(self, kind: str, detail: str = "", **context: Any) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.context = context


@dataclass(frozen=True)
class LoginOutcome:
    user: User
    # The type we log them in as (their Clever login type, or teacher for a teaching admin).
    login_type: str
    # The login-context type Clever reported.
    reported_type: str
    district: District = field(repr=False)


def code_digest(code: str) -> str:
    """A keyed hash of an authorization code: stored digests say nothing even to someone
    holding a list of codes."""
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def code_was_redeemed(*, code: str) -> bool:
    """Whether this authorization code was already posted to Clever."""
    return RedeemedCode.objects.filter(code_hash=code_digest(code)).exists()


def code_mark_redeemed(*, code: str) -> bool:
    """Record (a hash of) the code before we post it; False when it was already recorded."""
    return login_sql.redeemed_code_insert(code_hash=code_digest(code), at=timezone.now())


def redeemed_codes_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete redeemed-code hashes older than ``older_than``; Clever's codes expire in a minute."""
    deleted, _ = RedeemedCode.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


def supported_user_types() -> list[str]:
    """CLEVER_SUPPORTED_USER_TYPES, spelled as Clever's v3 login types ("district admin" is
    district_admin), in the order set, without blanks or repeats."""
    types = (usertypes.normalise_user_type(t) for t in settings.CLEVER_SUPPORTED_USER_TYPES)
    return list(dict.fromkeys(t for t in types if t))


def admitted_type(*, login_type: str, clever_user: records.UserRecord) -> str:
    """The type to log this person in as, or raise LoginFailure("unsupported_type").

    An admin who also teaches is admitted as a teacher when admin types are off (Clever: "treat
    admins as teachers if you have no admin role")."""
    supported = set(supported_user_types()) - {"contact"}
    if login_type in supported:
        return login_type
    if (
        login_type in usertypes.ADMIN_TYPES
        and "teacher" in supported
        and clever_user.role("teacher")
    ):
        return "teacher"
    raise LoginFailure("unsupported_type", user_type=login_type or "unknown")


def _identify(*, tokens: records.TokenResponse, flow: Flow) -> tuple[str, str, str, str]:
    """(user id, district id, login type, canonical path) from the id_token or from /me."""
    if settings.CLEVER_OIDC_ENABLED:
        if not tokens.id_token:
            raise errors.IdTokenInvalid("no id_token: is OIDC enabled for this Clever app?")
        claims = identity.validate_id_token(id_token=tokens.id_token, nonce=flow.nonce)
        return claims.sub, claims.district_id, claims.login_type, ""
    me = identity.fetch_me(access_token=tokens.access_token)
    return me.user_id, me.district_id, me.login_type, me.canonical_path


@contextmanager
def _clever_failures() -> Iterator[None]:
    """Clever's errors during a login, as the LoginFailure kinds the pages explain."""
    try:
        yield
    except errors.CleverTransientError as exc:
        raise LoginFailure("clever_unavailable", str(exc)) from None
    except errors.CleverInvalidGrant as exc:
        raise LoginFailure("code_rejected", str(exc)) from None
    except errors.IdTokenInvalid as exc:
        raise LoginFailure("id_token_invalid", str(exc)) from None
    except errors.CleverPermanentError as exc:
        raise LoginFailure("clever_rejected", str(exc)) from None


def clever_login_complete(*, code: str, flow: Flow, redirect_uri: str) -> LoginOutcome:
    """Redeem the code once, read /me and /users/{id}, admit the person and find their account;
    a refusal once Clever has said who logged in is recorded (``login_refusal_record``)."""
    if not code_mark_redeemed(code=code):
        raise LoginFailure("code_replayed")
    with _clever_failures():
        tokens = identity.exchange_code(code=code, redirect_uri=redirect_uri)
        user_id, district_id, login_type, canonical = _identify(tokens=tokens, flow=flow)
    try:
        return _admit(
            tokens=tokens,
            user_id=user_id,
            district_id=district_id,
            login_type=login_type,
            canonical=canonical,
        )
    except LoginFailure as failure:
        if user_id:
            login_refusal_record(
                clever_user_id=user_id,
                kind=failure.kind,
                user_type=login_type,
                entry_point=flow.entry_point,
            )
        raise


def _admit(
    *,
    tokens: records.TokenResponse,
    user_id: str,
    district_id: str,
    login_type: str,
    canonical: str,
) -> LoginOutcome:
    with _clever_failures():
        clever_user = identity.fetch_user(
            access_token=tokens.access_token, user_id=user_id, canonical_path=canonical
        )
    if clever_user.id != user_id:
        raise LoginFailure("clever_rejected", "the user record is not the one who logged in")
    if district_id and clever_user.district and district_id != clever_user.district:
        raise LoginFailure("clever_rejected", "the login's district is not the user's district")
    district_id = district_id or clever_user.district

    as_type = admitted_type(login_type=login_type, clever_user=clever_user)
    try:
        district = district_ensure_connected(clever_id=district_id) if district_id else None
    except errors.CleverTransientError as exc:
        # The token list lives at Clever; if it cannot be read we cannot say "not connected".
        raise LoginFailure("clever_unavailable", f"token list: {type(exc).__name__}") from None
    except errors.CleverError as exc:
        raise LoginFailure("clever_rejected", f"token list: {type(exc).__name__}") from None
    if district is None:
        raise LoginFailure("district_not_connected", f"district {district_id}")
    existing = user_by_clever_id(clever_id=clever_user.id)
    if existing is not None and not existing.is_active:
        # Ops deactivated the account: Django would log them in and then not know them.
        raise LoginFailure("account_inactive", f"user {clever_user.id}")
    reason = login_block_reason(district=district, user=existing)
    if reason:
        raise LoginFailure("not_launched", f"district {district_id}", reason=reason)
    user = user_from_clever(clever_user=clever_user, district_id=district.pk, existing=existing)
    user_roles_refresh(user=user, clever_user=clever_user)
    return LoginOutcome(user=user, login_type=as_type, reported_type=login_type, district=district)


def login_record_create(*, outcome: LoginOutcome, entry_point: str) -> None:
    """Write the LoginRecord the go-live checklist reads for this successful login."""
    login_sql.login_record_insert(
        user_id=outcome.user.pk,
        user_type=outcome.reported_type,
        district_id=outcome.district.pk,
        production_credentials=settings.CLEVER_APP_ENVIRONMENT == "production",
        client_id=settings.CLEVER_CLIENT_ID,
        entry_point=entry_point,
        at=timezone.now(),
    )


def login_refusal_record(
    *, clever_user_id: str, kind: str, user_type: str, entry_point: str
) -> None:
    """Write the LoginRefusal the user support page shows for this refused login (one INSERT;
    nothing but the kind: no token, code or Clever detail). A database that refuses it is
    logged, and the person still sees why they were refused."""
    try:
        login_sql.login_refusal_insert(
            clever_user_id=clever_user_id[:64],
            kind=kind,
            user_type=user_type[:32],
            entry_point=entry_point,
            client_id=settings.CLEVER_CLIENT_ID,
            at=timezone.now(),
        )
    except DatabaseError as exc:
        logger.warning("login refusal not recorded: %s (%s)", kind, type(exc).__name__)


def login_refusals_prune(*, keep_days: int | None = None) -> int:
    """Delete refused-login records older than CLEVER_LOGIN_REFUSALS_KEEP_DAYS."""
    days = settings.CLEVER_LOGIN_REFUSALS_KEEP_DAYS if keep_days is None else keep_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = LoginRefusal.objects.filter(created_at__lt=cutoff).delete()
    return deleted
