"""Clever's Data API (v3.0) and district-token list: the only module that knows their URLs.

Every call goes through one ``requests.Session`` per client with the timeout from settings, and
every failure becomes one of our exceptions: ``CleverTransientError`` (retry later: 5xx, timeouts,
connection errors, HTML bodies, a rate-limit wait longer than we accept) or
``CleverPermanentError`` (4xx: ``CleverUnauthorized`` for a revoked token or bad credentials,
``CleverNotFound`` for an unknown or unshared record). Records come back as plain dataclasses,
checked field by field, so a malformed payload is reported naming the record and the problem.

Built for Clever's documented behaviour: ``limit`` pages followed through ``links`` ``rel: next``
(relative to the API base), stopping when there is no next link *or* the page is empty, and
refusing a next link that does not advance.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings

from rostering.grades import normalize_grade

logger = logging.getLogger(__name__)

# Endpoints (relative to CLEVER_OAUTH_BASE_URL / CLEVER_API_BASE_URL).
TOKENS_PATH = "/oauth/tokens"
DISTRICT_PATH = "/v3.0/districts/{id}"
SCHOOLS_PATH = "/v3.0/schools"
TERMS_PATH = "/v3.0/terms"
COURSES_PATH = "/v3.0/courses"
USERS_PATH = "/v3.0/users"
SECTIONS_PATH = "/v3.0/sections"
EVENTS_PATH = "/v3.0/events"

# Longest single backoff between retries, whatever the attempt.
_MAX_BACKOFF_SECONDS = 30.0


# --- Exceptions ---------------------------------------------------------------------------------


class CleverError(Exception):
    """A call to Clever failed; ``where`` says which call (e.g. "GET /v3.0/users page 3")."""

    def __init__(self, message: str, *, status: int | None = None, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class CleverTransientError(CleverError):
    """Worth retrying later: 5xx, timeouts, connection errors, HTML bodies, rate limits."""


class CleverPermanentError(CleverError):
    """Retrying will not help: 4xx, malformed payloads, a next link that does not advance."""


class CleverUnauthorized(CleverPermanentError):
    """401: the district's token was revoked, or the app credentials are wrong."""


class CleverNotFound(CleverPermanentError):
    """404: wrong token, or the record is not (or no longer) shared."""


class CleverMalformedError(CleverPermanentError):
    """A payload or record is not shaped as Clever documents; names the record and the field."""

    def __init__(
        self, message: str, *, record_type: str = "", clever_id: str = "", where: str = ""
    ) -> None:
        super().__init__(message, where=where)
        self.record_type = record_type
        self.clever_id = clever_id


# --- Typed records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistrictToken:
    district_id: str
    access_token: str = field(repr=False)
    created: str = ""
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DistrictRecord:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    id: str
    name: str
    sis_id: str
    school_number: str
    state_id: str
    nces_id: str
    low_grade: str
    high_grade: str


@dataclass(frozen=True, slots=True)
class TermRecord:
    id: str
    name: str
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class CourseRecord:
    id: str
    name: str
    number: str


@dataclass(frozen=True, slots=True)
class SectionRecord:
    id: str
    school: str
    course: str
    term: str
    name: str
    sis_id: str
    section_number: str
    period: str
    subject: str
    grade: str  # normalised (rostering.grades)
    grade_raw: str
    teachers: tuple[str, ...]  # primary first
    students: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StudentRelationshipRecord:
    student: str
    relationship: str
    type: str


@dataclass(frozen=True, slots=True)
class RoleRecord:
    role: str
    school: str  # primary school ("" when the role has none)
    schools: tuple[str, ...]
    sis_id: str
    number: str  # student_number / teacher_number / staff_id
    state_id: str
    district_username: str
    title: str
    grade: str
    grade_raw: str
    relationships: tuple[StudentRelationshipRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    first_name: str
    last_name: str
    middle_name: str
    email: str
    roles: tuple[RoleRecord, ...]


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    type: str  # e.g. "users.updated"
    created: str
    object: Mapping[str, Any]
    previous_attributes: Mapping[str, Any]

    @property
    def record_type(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.type.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint: its number (1-based), the call, and its raw items."""

    number: int
    where: str
    items: list[Mapping[str, Any]]


# --- Parsing: field by field, naming the record on any problem ----------------------------------


class _Fields:
    """Reads one raw record's fields, raising CleverMalformedError naming the record."""

    def __init__(self, raw: Any, record_type: str, where: str = "") -> None:
        if not isinstance(raw, Mapping):
            raise CleverMalformedError(
                f"{record_type} record is a {type(raw).__name__}, not an object",
                record_type=record_type,
                where=where,
            )
        self.raw = raw
        self.record_type = record_type
        self.where = where
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid:
            raise CleverMalformedError(
                f"{record_type} record has no id (got {rid!r})",
                record_type=record_type,
                where=where,
            )
        self.id = rid

    def fail(self, problem: str) -> CleverMalformedError:
        return CleverMalformedError(
            f"{self.record_type} {self.id}: {problem}",
            record_type=self.record_type,
            clever_id=self.id,
            where=self.where,
        )

    def text(self, key: str, source: Mapping[str, Any] | None = None, prefix: str = "") -> str:
        value = (self.raw if source is None else source).get(key)
        if value.__class__ is str:  # the common case, first: this runs millions of times
            return value
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(f"field {prefix + key!r} should be a string, got {_kind(value)}")
        return str(value)

    def obj(self, key: str, source: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        value = (self.raw if source is None else source).get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(f"field {key!r} should be an object, got {_kind(value)}")
        return value

    def ids(self, key: str, source: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        value = (self.raw if source is None else source).get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"field {key!r} should be a list of ids, got {value!r:.80}")
        # Order kept (teachers: primary first); duplicates dropped.
        return tuple(dict.fromkeys(value))

    def day(self, key: str) -> date | None:
        value = self.text(key)
        if not value:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise self.fail(f"field {key!r} is not a date: {value!r:.40}") from None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_district(raw: Any) -> DistrictRecord:
    """A DistrictRecord from a raw /districts item."""
    f = _Fields(raw, "district")
    return DistrictRecord(id=f.id, name=f.text("name"))


def parse_school(raw: Any, where: str = "") -> SchoolRecord:
    """A SchoolRecord from a raw /schools item."""
    f = _Fields(raw, "school", where)
    return SchoolRecord(
        id=f.id,
        name=f.text("name"),
        sis_id=f.text("sis_id"),
        school_number=f.text("school_number"),
        state_id=f.text("state_id"),
        nces_id=f.text("nces_id"),
        low_grade=normalize_grade(f.text("low_grade")),
        high_grade=normalize_grade(f.text("high_grade")),
    )


def parse_term(raw: Any, where: str = "") -> TermRecord:
    """A TermRecord from a raw /terms item."""
    f = _Fields(raw, "term", where)
    return TermRecord(
        id=f.id, name=f.text("name"), start_date=f.day("start_date"), end_date=f.day("end_date")
    )


def parse_course(raw: Any, where: str = "") -> CourseRecord:
    """A CourseRecord from a raw /courses item."""
    f = _Fields(raw, "course", where)
    return CourseRecord(id=f.id, name=f.text("name"), number=f.text("number"))


def parse_section(raw: Any, where: str = "") -> SectionRecord:
    """A SectionRecord from a raw /sections item; teachers primary first."""
    f = _Fields(raw, "section", where)
    teachers = f.ids("teachers")
    primary = f.text("teacher")
    if primary and (not teachers or teachers[0] != primary):
        teachers = (primary, *(t for t in teachers if t != primary))
    grade_raw = f.text("grade")
    return SectionRecord(
        id=f.id,
        school=f.text("school"),
        course=f.text("course"),
        term=f.text("term_id"),
        name=f.text("name"),
        sis_id=f.text("sis_id"),
        section_number=f.text("section_number"),
        period=f.text("period"),
        subject=f.text("subject"),
        grade=normalize_grade(grade_raw),
        grade_raw=grade_raw,
        teachers=teachers,
        students=f.ids("students"),
    )


_ROLE_NUMBER_FIELD = {"student": "student_number", "teacher": "teacher_number", "staff": "staff_id"}
ROLE_NAMES = ("student", "teacher", "staff", "district_admin", "contact")


def parse_user(raw: Any, where: str = "", roles: tuple[str, ...] = ROLE_NAMES) -> UserRecord:
    """A UserRecord from a raw /users item, keeping only ``roles``."""
    f = _Fields(raw, "user", where)
    name = f.obj("name")
    raw_roles = f.obj("roles")
    parsed: list[RoleRecord] = []
    for role in ROLE_NAMES:
        if role not in roles or raw_roles.get(role) is None:
            continue
        data = f.obj(role, raw_roles)
        credentials = f.obj("credentials", data)
        prefix = f"roles.{role}."
        grade_raw = f.text("grade", data, prefix)
        relationships: tuple[StudentRelationshipRecord, ...] = ()
        if role == "contact":
            rels = data.get("student_relationships") or []
            if not isinstance(rels, list):
                raise f.fail("field 'roles.contact.student_relationships' should be a list")
            seen: dict[str, StudentRelationshipRecord] = {}
            for rel in rels:
                if not isinstance(rel, Mapping) or not isinstance(rel.get("student"), str):
                    raise f.fail(f"a contact student_relationship has no student: {rel!r:.80}")
                seen[rel["student"]] = StudentRelationshipRecord(
                    student=rel["student"],
                    relationship=f.text("relationship", rel),
                    type=f.text("type", rel),
                )
            relationships = tuple(seen.values())
        schools = f.ids("schools", data)
        school = f.text("school", data, prefix)
        if school and school not in schools:
            schools = (school, *schools)
        parsed.append(
            RoleRecord(
                role=role,
                school=school,
                schools=schools,
                sis_id=f.text("sis_id", data, prefix),
                number=f.text(_ROLE_NUMBER_FIELD.get(role, "-"), data),
                state_id=f.text("state_id", data, prefix),
                district_username=f.text("district_username", credentials),
                title=f.text("title", data, prefix),
                grade=normalize_grade(grade_raw),
                grade_raw=grade_raw,
                relationships=relationships,
            )
        )
    return UserRecord(
        id=f.id,
        first_name=f.text("first", name, "name."),
        last_name=f.text("last", name, "name."),
        middle_name=f.text("middle", name, "name."),
        email=f.text("email"),
        roles=tuple(parsed),
    )


def parse_event(raw: Any, where: str = "") -> EventRecord:
    """An EventRecord; previous_attributes read from the event or from its data object."""
    f = _Fields(raw, "event", where)
    etype = f.text("type")
    if "." not in etype:
        raise f.fail(f"event type {etype!r} is not '<records>.<action>'")
    data = f.obj("data")
    obj = f.obj("object", data)
    # Clever's docs put previous_attributes on the event; its spec puts them beside the object.
    previous = f.obj("previous_attributes") or f.obj("previous_attributes", data)
    return EventRecord(
        id=f.id, type=etype, created=f.text("created"), object=obj, previous_attributes=previous
    )


# --- HTTP ---------------------------------------------------------------------------------------


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter for retry number ``attempt`` (0-based)."""
    ceiling = min(_MAX_BACKOFF_SECONDS, settings.CLEVER_HTTP_BACKOFF_BASE * (2**attempt))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class _Http:
    """One session, one base URL, one credential: GETs JSON with retries and our exceptions."""

    def __init__(self, base_url: str, *, auth: Any = None, bearer: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if bearer:
            self.session.headers["Authorization"] = f"Bearer {bearer}"
        if auth is not None:
            self.session.auth = auth

    def close(self) -> None:
        self.session.close()

    def url(self, path_or_uri: str) -> str:
        # Clever's links are relative to the API base ("/v3.0/users?starting_after=..."), so
        # they are appended to the base (which may carry a path), not resolved against the host.
        if path_or_uri.startswith(("http://", "https://")):
            return path_or_uri
        return self.base_url + "/" + path_or_uri.lstrip("/")

    def get_json(
        self, path_or_uri: str, params: Mapping[str, Any] | None = None, *, where: str
    ) -> Any:
        """GET ``path_or_uri`` and return its JSON body, retrying what is worth retrying."""
        url = self.url(path_or_uri)
        retries = 0
        waited = 0.0
        while True:
            try:
                response = self.session.get(
                    url, params=params, timeout=settings.CLEVER_HTTP_TIMEOUT
                )
            except requests.Timeout as exc:
                error: CleverError = CleverTransientError(f"timed out ({exc.__class__.__name__})")
            except requests.RequestException as exc:
                error = CleverTransientError(f"connection failed ({exc.__class__.__name__})")
            else:
                if response.status_code == 429:
                    wait = self._rate_limit_wait(response)
                    max_wait = settings.CLEVER_RATE_LIMIT_MAX_WAIT
                    if waited + wait > max_wait:
                        raise CleverTransientError(
                            f"rate limited (429); the window resets in {wait:.0f}s, longer than "
                            f"CLEVER_RATE_LIMIT_MAX_WAIT ({max_wait:g}s)",
                            status=429,
                            where=where,
                        )
                    logger.info("Clever rate limit on %s; waiting %.1fs", where, wait)
                    waited += wait
                    _sleep(wait)
                    continue
                try:
                    return self._decode(response)
                except CleverTransientError as exc:
                    error = exc
                except CleverError as exc:
                    exc.where = where
                    raise
            error.where = where
            if retries >= settings.CLEVER_HTTP_MAX_RETRIES:
                error.message += f" (gave up after {retries + 1} attempts)"
                raise error
            delay = _backoff(retries)
            logger.warning("Clever %s failed (%s); retry in %.2fs", where, error.message, delay)
            retries += 1
            _sleep(delay)

    @staticmethod
    def _rate_limit_wait(response: requests.Response) -> float:
        reset = response.headers.get("X-RateLimit-Reset", "")
        try:
            # Plus a little, so we arrive after the window turned, not just before.
            return max(0.0, float(reset) - time.time()) + 0.05
        except ValueError:
            return 1.0

    @staticmethod
    def _decode(response: requests.Response) -> Any:
        status = response.status_code
        content_type = response.headers.get("Content-Type", "")
        message = ""
        if status >= 400:
            try:
                body = response.json()
                message = str(body.get("message") or body.get("error") or "")[:200]
            except (ValueError, AttributeError):
                message = ""
        detail = f"HTTP {status}" + (f": {message}" if message else "")
        if status == 401:
            raise CleverUnauthorized(detail, status=status)
        if status == 404:
            raise CleverNotFound(detail, status=status)
        if status == 501 or 400 <= status < 500:
            raise CleverPermanentError(detail, status=status)
        if status >= 500:
            raise CleverTransientError(detail, status=status)
        if "html" in content_type.lower():
            raise CleverTransientError(f"HTTP {status} with an HTML body, not JSON", status=status)
        try:
            return response.json()
        except ValueError:
            raise CleverTransientError(
                f"HTTP {status} with a body that is not JSON", status=status
            ) from None


def _next_uri(body: Mapping[str, Any]) -> str:
    for link in body.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "next" and link.get("uri"):
            return str(link["uri"])
    return ""


def _paginate(
    http: _Http, path: str, params: Mapping[str, Any], *, wrapped: bool = True
) -> Iterator[Page]:
    """Pages of ``path``: follow rel=next until none or an empty page; refuse a stalled link."""
    uri: str = path
    query: Mapping[str, Any] | None = params
    number = 0
    seen: set[str] = set()
    last_cursor = ""
    while True:
        number += 1
        where = f"GET {path} page {number}"
        body = http.get_json(uri, query, where=where)
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise CleverMalformedError("the response has no 'data' list", where=where)
        items = []
        for position, item in enumerate(body["data"], start=1):
            inner = item.get("data") if isinstance(item, Mapping) else None
            if not wrapped and inner is None and isinstance(item, Mapping):
                inner = item
            if not isinstance(inner, Mapping):
                raise CleverMalformedError(
                    f"item {position} is not wrapped as {{'data': {{...}}}}", where=where
                )
            items.append(inner)
        if not items:
            return
        yield Page(number=number, where=where, items=items)
        next_uri = _next_uri(body)
        if not next_uri:
            return
        cursor = _cursor(next_uri)
        if next_uri in seen or (cursor and cursor == last_cursor):
            raise CleverPermanentError(
                f"the next link does not advance ({next_uri[:120]})", where=where
            )
        seen.add(next_uri)
        last_cursor = cursor
        uri, query = next_uri, None


def _cursor(uri: str) -> str:
    values = parse_qs(urlsplit(uri).query).get("starting_after") or [""]
    return values[0]


# --- Public API ---------------------------------------------------------------------------------


def list_district_tokens(
    *, client_id: str, client_secret: str, district_id: str | None = None
) -> list[DistrictToken]:
    """GET /oauth/tokens?owner_type=district with the app credentials: the districts' tokens."""
    http = _Http(settings.CLEVER_OAUTH_BASE_URL, auth=(client_id, client_secret))
    params: dict[str, Any] = {"owner_type": "district"}
    if district_id:
        params["district"] = district_id
    tokens: dict[str, DistrictToken] = {}
    try:
        # Data API lists wrap items as {"data": {...}}; the token list's items are documented
        # bare. Accept either.
        for page in _paginate(http, TOKENS_PATH, params, wrapped=False):
            for position, item in enumerate(page.items, start=1):
                token = _parse_token(item, where=f"{page.where} item {position}")
                if token is not None:
                    tokens[token.district_id] = token
    finally:
        http.close()
    result = list(tokens.values())
    if district_id:
        # Whether Clever honours ?district= is not certain: narrow here as well.
        result = [t for t in result if t.district_id == district_id]
    return result


def _parse_token(item: Mapping[str, Any], *, where: str) -> DistrictToken | None:
    owner = item.get("owner")
    if not isinstance(owner, Mapping) or owner.get("type") != "district":
        return None
    district_id, token = owner.get("id"), item.get("access_token")
    if not isinstance(district_id, str) or not district_id:
        raise CleverMalformedError("token entry has no owner.id", where=where)
    if not isinstance(token, str) or not token:
        raise CleverMalformedError(
            f"token entry for district {district_id} has no access_token", where=where
        )
    scopes = item.get("scopes")
    return DistrictToken(
        district_id=district_id,
        access_token=token,
        created=str(item.get("created") or ""),
        scopes=tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else (),
    )


class CleverClient:
    """Clever's Data API with one district-app token: one session, typed records, page by page."""

    def __init__(self, token: str, *, base_url: str | None = None) -> None:
        self._http = _Http(base_url or settings.CLEVER_API_BASE_URL, bearer=token)

    def close(self) -> None:
        """Close the HTTP session."""
        self._http.close()

    def __enter__(self) -> CleverClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def district(self, district_id: str) -> DistrictRecord:
        """GET /v3.0/districts/{id}: the district's record."""
        path = DISTRICT_PATH.format(id=district_id)
        body = self._http.get_json(path, where=f"GET {path}")
        if not isinstance(body, Mapping):
            raise CleverMalformedError("the response is not an object", where=f"GET {path}")
        return parse_district(body.get("data"))

    def pages(self, path: str, **params: Any) -> Iterator[Page]:
        """GET a list endpoint page by page (limit=CLEVER_SYNC_PAGE_SIZE), raw items."""
        query = {"limit": settings.CLEVER_SYNC_PAGE_SIZE, **params}
        return _paginate(self._http, path, query)

    def events(self, *, starting_after: str = "") -> Iterator[Page]:
        """GET /v3.0/events after ``starting_after``, oldest first, page by page."""
        params = {"starting_after": starting_after} if starting_after else {}
        return self.pages(EVENTS_PATH, **params)

    def latest_event_id(self) -> str:
        """GET /v3.0/events page by page: the newest event id ("" when there are none)."""
        # Events are ascending; the newest is the last one of the last page. Clever documents
        # no "newest first" flag, so read forward and keep only the last id (events are kept
        # 30 days, so this stays bounded).
        last = ""
        for page in self.events():
            last = str(page.items[-1].get("id") or last)
        return last
