"""SQL for what every login and every request reads of the account (by Clever ID, the session's
user) and the one column a login writes on it (last_login).

Through the ORM each of these reads cost several times what the database spends answering it:
``filter(...).first()`` about 0.55 ms of Python, ``get(pk=...)`` 0.37 ms, against 0.18 ms for the
same row through ``Model.objects.raw()`` (which still applies each field's converters, so rows are
the same model instances on PostgreSQL and SQLite). The roster's own reads on the login path and
the home pages' class lists are in ``rostering.selectors``, on ``row_where``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.db import connection, models

from accounts.models import User

M = TypeVar("M", bound=models.Model)


def row_where(model: type[M], column: str, value: object) -> M | None:
    """The first row of ``model`` whose ``column`` equals ``value``, through one raw SELECT
    (``column`` comes from our code, never from a request; ``value`` is a parameter)."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE {connection.ops.quote_name(column)} = %s"
    return next(iter(model.objects.raw(sql, [value])), None)


def user_by_clever_id(*, clever_id: str) -> User | None:
    """The account keyed by this Clever ID, if any."""
    return row_where(User, "clever_id", clever_id)


def user_by_pk(*, pk: int) -> User | None:
    """The account with this primary key, if any (the session's user, on every request)."""
    return row_where(User, "id", pk)


def last_login_update(*, user_id: int, at: datetime) -> None:
    """Set one account's last_login (one UPDATE; the ORM's save() costs twice the Python)."""
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_login = %s WHERE id = %s", [db_datetime(at), user_id]
        )


def db_datetime(at: datetime) -> object:
    """``at`` as the ORM stores a DateTimeField (SQLite: naive UTC text), so rows written with
    raw SQL compare like the ORM's own."""
    return connection.ops.adapt_datetimefield_value(at)
