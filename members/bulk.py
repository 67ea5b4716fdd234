"""Set-based membership status changes: one UPDATE and one INSERT ... SELECT of history rows.

For work over many memberships at once (collection, lapses, sweeps); the history row of each
change is written in the same transaction as the change itself.
"""

from django.db import connection, transaction
from django.utils import timezone

from members.models import Membership


@transaction.atomic
def bulk_change_status(
    where_sql: str, params: dict, to_status: str, cause: str, extra_set: str = ""
) -> int:
    """Move every membership matching `where_sql` (over alias m) to `to_status`.

    `where_sql` must select memberships whose status differs from `to_status`; the history
    rows are inserted first, from the same predicate, then the rows are updated.
    """
    now = timezone.now()
    params = {**params, "to_status": to_status, "cause": cause[:200], "now": now}
    table = Membership._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO members_membershipstatuschange
                (membership_id, from_status, to_status, cause, actor_id, at)
            SELECT m.id, m.status, %(to_status)s, %(cause)s, NULL, %(now)s
            FROM {table} m
            WHERE m.status <> %(to_status)s AND ({where_sql})
            """,
            params,
        )
        cursor.execute(
            f"""
            UPDATE {table} AS m
            SET status = %(to_status)s, status_changed_at = %(now)s {extra_set}
            WHERE m.status <> %(to_status)s AND ({where_sql})
            """,
            params,
        )
        return cursor.rowcount
