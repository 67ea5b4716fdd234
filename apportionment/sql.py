"""The SQL of apportionment that more than one phase reads: who participates at the cut-off,
each participant's share (with the odd cent and the annual cap), and the odd-cent hash.

Each statement is written whole, over the same aliases, so it can be read (and EXPLAINed) as it
runs; the parameters are always passed separately."""

from django.db import connection

from mutualaid import dialect


def odd_cent_hash_sql() -> str:
    """SHA-256 of the UTF-8 text "{batch_id}:{membership_id}" (SPEC 6), as bytes."""
    return dialect.sha256_sql("CAST(%(batch)s AS TEXT) || ':' || CAST(m.id AS TEXT)")


def participants_sql(ranged: bool = False) -> str:
    """Memberships of the pool that were waiting or active at T (alias m: id, person_id).

    A membership whose status has not changed since T has its current status at T; for the
    others, the status it left in its first recorded change after T. Written as two plain
    cases rather than one CASE: the planner can count the first (nearly everyone), where it
    guessed a CASE matched 1 % of the range and looked each person up one by one (+40 % a
    publish chunk, on tables vacuumed and analysed as in production).
    """
    id_range = "AND m.id BETWEEN %(lo)s AND %(hi)s" if ranged else ""
    return f"""
        SELECT m.id, m.person_id FROM members_membership m
        WHERE m.pool_id = %(pool)s AND m.joined_at <= %(cutoff)s {id_range}
          AND ((m.status_changed_at <= %(cutoff)s AND m.status IN ('waiting', 'active'))
               OR (m.status_changed_at > %(cutoff)s
                   AND COALESCE((SELECT h.from_status FROM members_membershipstatuschange h
                                 WHERE h.membership_id = m.id AND h.at > %(cutoff)s
                                 ORDER BY h.at, h.id LIMIT 1), m.status)
                       IN ('waiting', 'active')))
    """


def hashed_participants_sql() -> str:
    """Every participant with its odd-cent hash (alias columns: h, id)."""
    return f"SELECT {odd_cent_hash_sql()} AS h, m.id FROM ({participants_sql()}) m"


def shares_sql(cap_may_bind: bool = True) -> str:
    """Each participant's share and charge in an id range (alias s: membership_id, account_id,
    h (the odd-cent hash), room, share, amount, capped). The cap counts this calendar year's
    charges of earlier batches; when no one can reach it (`cap_may_bind` false) those charges
    are not read at all."""
    prior = "0"
    prior_join = ""
    if cap_may_bind:
        prior = "COALESCE(prior.paid, 0)"
        prior_join = """
            LEFT JOIN (
                SELECT c.membership_id, SUM(c.amount_cents) AS paid
                FROM apportionment_charge c
                JOIN apportionment_batch b ON b.id = c.batch_id
                WHERE b.pool_id = %(pool)s AND b.cap_year = %(year)s AND b.id <> %(batch)s
                  AND b.status IN ('published', 'collecting', 'collected', 'paid_out')
                  AND c.id BETWEEN b.id * %(per_batch)s + %(lo)s AND b.id * %(per_batch)s + %(hi)s
                GROUP BY c.membership_id
            ) prior ON prior.membership_id = m.id"""
    return f"""
        SELECT p.*, {capped_share_sql("p.share", "p.room")}
        FROM (
            SELECT q.*, %(base)s + CASE WHEN (q.h, q.membership_id) <= (%(cut_hash)s, %(cut_id)s)
                                        THEN 1 ELSE 0 END AS share
            FROM (
                SELECT m.id AS membership_id, person.account_id, {odd_cent_hash_sql()} AS h,
                       CASE WHEN %(cap)s - {prior} > 0 THEN %(cap)s - {prior} ELSE 0 END AS room
                FROM ({participants_sql(ranged=True)}) m
                JOIN members_person person ON person.id = m.person_id
                    AND person.id BETWEEN %(first_person)s AND %(last_person)s{prior_join}
                {dialect.computed_once()}
            ) q
            {dialect.computed_once()}
        ) p
    """


def capped_share_sql(share: str, room: str) -> str:
    """The columns amount (what the member is charged) and capped (what the cap cut)."""
    return f"""CASE WHEN {share} <= {room} THEN {share} ELSE {room} END AS amount,
               CASE WHEN {share} <= {room} THEN 0 ELSE {share} - {room} END AS capped"""


def fetchone(sql: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def execute(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
