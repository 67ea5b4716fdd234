"""Set-based membership status changes: one UPDATE and one INSERT ... SELECT of history rows.

For work over many memberships at once (collection, lapses, sweeps); the history row of each
change is written in the same transaction as the change itself. Other apps say which
memberships move with a QuerySet; the SQL stays here.
"""

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from members.models import Membership, MembershipStatusChange
from members.transitions import SYSTEM, TRANSITIONS
from mutualaid import dialect, pagecache

S = Membership.Status


def _also_set(name: str, now) -> tuple[list[str], list]:
    """What a transition writes besides the status (the retry window counts from the day of
    the suspension; a membership's active period from the end of its waiting period)."""
    also = {
        "activate": (["active_since = waiting_ends_on"], []),
        "suspend": (["suspended_since = %s"], [now.date()]),
        "reactivate": (["suspended_since = NULL"], []),
    }.get(name, ([], []))
    if TRANSITIONS[name].target not in Membership.OPEN_STATUSES:
        return also[0] + ["ended_at = %s"], also[1] + [now]
    return also


def _where(memberships: QuerySet) -> tuple[str, list]:
    """The queryset's condition as SQL over the membership table itself (no alias), or, when
    it joins other tables, as an id subquery."""
    query = memberships.query
    if len(query.alias_map) <= 1:
        compiler = query.get_compiler(using=memberships.db)
        return compiler.compile(query.where)
    sql, params = memberships.values("pk").query.sql_with_params()
    return f'"{Membership._meta.db_table}"."id" IN ({sql})', list(params)


@transaction.atomic
def bulk_change_status(memberships: QuerySet, *, transition: str, cause: str) -> int:
    """Make the system's `transition` (members.transitions) for every membership of the
    queryset that is in one of its source states; returns how many moved.

    With one source state it is one statement on PostgreSQL, an UPDATE … RETURNING feeding the
    history INSERT; otherwise, and on SQLite (the embedded default, which has no data-modifying
    WITH), the history rows are inserted first from the same condition (to keep each row's old
    status), then the rows updated.
    """
    rule = TRANSITIONS[transition]
    if rule.actor != SYSTEM:
        raise PermissionDenied(f"{transition} is a person's transition (members.services)")
    now = timezone.now()
    where, where_params = _where(memberships.filter(status__in=rule.sources))
    also, also_params = _also_set(transition, now)
    pagecache.bump(pagecache.MEMBERS)  # no per-row signal here; every dashboard may show these
    table = Membership._meta.db_table
    history = MembershipStatusChange._meta.db_table
    update = f"""
        UPDATE {table} SET {", ".join(["status = %s", "status_changed_at = %s", *also])}
        WHERE {where}
    """
    update_params = [rule.target, now, *also_params, *where_params]
    columns = "(membership_id, from_status, to_status, cause, actor_id, at)"
    with connection.cursor() as cursor:
        if len(rule.sources) == 1 and dialect.is_postgres():
            cursor.execute(
                f"""
                WITH moved AS ({update} RETURNING id)
                INSERT INTO {history} {columns}
                SELECT id, %s, %s, %s, NULL, %s FROM moved
                """,
                [*update_params, rule.sources[0], rule.target, cause[:200], now],
            )
            return cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {history} {columns}
            SELECT id, status, %s, %s, NULL, %s FROM {table} WHERE {where}
            """,
            [rule.target, cause[:200], now, *where_params],
        )
        cursor.execute(update, update_params)
        return cursor.rowcount
