"""Set-based membership status changes: one UPDATE and one INSERT ... SELECT of history rows.

For work over many memberships at once (collection, lapses, sweeps); the history row of each
change is written in the same transaction as the change itself.
"""

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from members.models import Membership, MembershipStatusChange
from members.transitions import SYSTEM, TRANSITIONS
from mutualaid import pagecache


@transaction.atomic
def bulk_change_status(
    where_sql: str,
    params: dict,
    name: str,
    cause: str,
    extra_set: str = "",
) -> int:
    """Make the system's transition `name` (members.transitions) for every membership matching
    `where_sql` (over alias m) that is in one of its source states.

    With one source state it is one statement on PostgreSQL, an UPDATE … RETURNING feeding the
    history INSERT; otherwise, and on SQLite (the embedded default, which has no data-modifying
    WITH), the history rows are inserted first from the same predicate (to keep each row's old
    status), then the rows updated.
    """
    rule = TRANSITIONS[name]
    if rule.actor != SYSTEM:
        raise PermissionDenied(f"{name} is a person's transition (members.services)")
    to_status = rule.target
    from_status = rule.sources[0] if len(rule.sources) == 1 else None
    now = timezone.now()
    if to_status not in Membership.OPEN_STATUSES:
        extra_set += ", ended_at = %(now)s"
    params = {
        **params,
        "to_status": to_status,
        "from_status": from_status,
        "cause": cause[:200],
        "now": now,
    }
    # The statuses are the table's own constants (never input): written as SQL literals.
    sources = ", ".join(f"'{status}'" for status in rule.sources)
    where_sql = f"m.status IN ({sources}) AND ({where_sql})"
    pagecache.bump(pagecache.MEMBERS)  # no per-row signal here; every dashboard may show these
    table = Membership._meta.db_table
    history = MembershipStatusChange._meta.db_table
    update = f"""
        UPDATE {table} AS m
        SET status = %(to_status)s, status_changed_at = %(now)s {extra_set}
        WHERE m.status <> %(to_status)s AND ({where_sql})
    """
    with connection.cursor() as cursor:
        if from_status and connection.vendor == "postgresql":
            cursor.execute(
                f"""
                WITH moved AS ({update} RETURNING m.id)
                INSERT INTO {history} (membership_id, from_status, to_status, cause, actor_id, at)
                SELECT id, %(from_status)s, %(to_status)s, %(cause)s, NULL, %(now)s FROM moved
                """,
                params,
            )
            return cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {history} (membership_id, from_status, to_status, cause, actor_id, at)
            SELECT m.id, m.status, %(to_status)s, %(cause)s, NULL, %(now)s
            FROM {table} m
            WHERE m.status <> %(to_status)s AND ({where_sql})
            """,
            params,
        )
        cursor.execute(update, params)
        return cursor.rowcount
