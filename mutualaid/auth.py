"""Django's ModelBackend, with the signed-in user's row read by a statement compiled once.

Every signed-in request reads its user (django.contrib.auth.get_user, which then checks the
session's auth hash against the row's password); through a QuerySet that read costs about four
times the query itself, building and compiling the same SELECT for every request. Here the
QuerySet `User._default_manager.filter(pk=…)` is compiled once per process and database, and
each request runs its SQL with the request's primary key, converting the row as the QuerySet
does (the same columns, converters and Model.from_db): the same user, read from the database on
every request as before. That SELECT is also the request's connection health check (see
_checked_fetch), so a signed-in request's first query costs one round trip, not two.
"""

from functools import cache

from django.contrib.auth import backends, get_user_model
from django.db import InterfaceError, OperationalError, connections, router

PATH = "mutualaid.auth.ModelBackend"


@cache
def _statement(model, alias):
    """The SQL of `filter(pk=…)` (the key its only parameter), its fields and converters."""
    compiler = model._default_manager.filter(pk=0).query.get_compiler(alias)
    sql, params = compiler.as_sql()
    columns = [column for column, _sql, _alias in compiler.select]
    if len(params) != 1 or compiler.klass_info is None or compiler.annotation_col_map:
        return None  # a manager or model the plain statement does not fit: use the QuerySet
    attnames = [column.target.attname for column in columns]
    return sql, attnames, compiler, compiler.get_converters(columns)


def user_by_pk(pk):
    """The user with this primary key, as `User._default_manager.get(pk=pk)` gives it, or
    None."""
    model = get_user_model()
    alias = router.db_for_read(model)
    statement = _statement(model, alias)
    if statement is None:
        return model._default_manager.filter(pk=pk).first()
    sql, attnames, compiler, converters = statement
    connection = connections[alias]
    key = model._meta.pk.get_db_prep_value(model._meta.pk.to_python(pk), connection)
    rows = _checked_fetch(connection, sql, [key])
    if not rows:
        return None
    if converters:
        rows = list(compiler.apply_converters(rows, converters))
    return model.from_db(alias, attnames, rows[0])


def _fetch(connection, sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _checked_fetch(connection, sql, params):
    """The rows, this SELECT standing in for the connection's health check (CONN_HEALTH_CHECKS:
    Django sends a `SELECT 1` before a request's first query). A persistent connection the
    server dropped fails here, is closed and the SELECT runs once more on a new one, as Django's
    check would have reconnected: one round trip to the database instead of two."""
    if not connection.health_check_enabled or connection.health_check_done:
        return _fetch(connection, sql, params)
    if connection.connection is None or connection.in_atomic_block:
        return _fetch(connection, sql, params)  # Django's own check (or none) applies
    connection.health_check_done = True
    try:
        return _fetch(connection, sql, params)
    except (OperationalError, InterfaceError):
        connection.close()
        return _fetch(connection, sql, params)


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        user = user_by_pk(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
