"""Django's database sessions (``SESSION_ENGINE``), with the read of each request in plain SQL.

Everything else — creating, saving, cycling, deleting, expiry, ``clearsessions`` — is Django's
``django.contrib.sessions.backends.db`` unchanged; only the lookup of the session row, made on
every request of a signed-in person, skips the ORM: compiling that query cost several times what
running it does (docs/benchmarks.md). Same rule as Django's: the row with this key that has not
expired.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):  # type: ignore[no-untyped-def]
        model = self.model
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        key = connection.ops.quote_name(model._meta.get_field("session_key").column)
        data = connection.ops.quote_name(model._meta.get_field("session_data").column)
        expiry = connection.ops.quote_name(model._meta.get_field("expire_date").column)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {data} FROM {table} WHERE {key} = %s AND {expiry} > %s",  # noqa: S608
                [self.session_key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
