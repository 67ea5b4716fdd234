"""Demo members: the named accounts of each journey, and a realistic crowd inserted set-based.

The crowd (20,000 adults, 5,000 seniors, 8,000 children by default) is written by a few
INSERT … SELECT statements over a numbers series, in SQL that PostgreSQL and the embedded
SQLite both run: accounts, wallets funded by one balanced top-up transaction, persons with
valid identity numbers, memberships and their status history.
"""

import datetime as dt

from django.db import connection
from django.utils import timezone

from ledger.models import Account
from ledger.services import system_account, wallet_for
from members.identity import CHECK_CHARS, WEIGHTS, make_identity_number
from members.models import Membership, MembershipStatusChange, Person
from members.services import top_up_wallet, withdraw_membership
from mutualaid import dialect

ADULTS, SENIORS, CHILDREN = "critical-illness-adults", "cancer-seniors", "critical-illness-children"
CROWD_PREFIX = "member-"
CROWD_FIRST = 100000  # crowd usernames are member-100000, member-100001, …

# account, relationship, name, sex, birth date, province, pool slug, joined days ago
# (None: joined ten days before the last demo batch, so that batch is its first charge).
DEMO_PEOPLE = [
    ("alice", "self", "Alice Wang", "F", dt.date(1990, 3, 14), "Zhejiang", ADULTS, 400),
    ("alice", "child", "Lily Wang", "F", dt.date(2018, 6, 1), "Zhejiang", CHILDREN, 380),
    ("alice", "parent", "Wang Jianguo", "M", dt.date(1958, 9, 20), "Zhejiang", SENIORS, 20),
    ("bob", "self", "Bob Li", "M", dt.date(1984, 11, 2), "Sichuan", ADULTS, 500),
    ("bob", "spouse", "Mei Li", "F", dt.date(1986, 1, 23), "Sichuan", ADULTS, 300),
    ("carol", "self", "Carol Zhang", "F", dt.date(1979, 7, 7), "Guangdong", ADULTS, 700),
    ("dave", "self", "Dave Chen", "M", dt.date(1975, 2, 28), "Hubei", ADULTS, 650),
    ("erin", "self", "Erin Zhao", "F", dt.date(1981, 10, 9), "Zhejiang", ADULTS, 480),
    ("frank", "self", "Frank Liu", "M", dt.date(1972, 4, 18), "Sichuan", ADULTS, 560),
    ("grace", "self", "Grace Huang", "F", dt.date(1988, 12, 3), "Guangdong", ADULTS, 420),
    ("henry", "self", "Henry Xu", "M", dt.date(1993, 5, 30), "Hubei", ADULTS, None),
]
REGIONS = {"Zhejiang": "330102", "Sichuan": "510104", "Guangdong": "440103", "Hubei": "420102"}
# Named accounts whose wallet is topped up before the history (henry's is left empty).
FUNDED = {
    "alice": 60000,
    "bob": 60000,
    "carol": 30000,
    "dave": 30000,
    "erin": 30000,
    "frank": 30000,
    "grace": 30000,
}

# Each crowd group: regions (code, province) disjoint from every other group's and from
# REGIONS above, so identity numbers never collide; ages in days, youngest and oldest.
CROWD_GROUPS = {
    ADULTS: {
        "relationship": "self",
        "regions": [
            ("110101", "Beijing"),
            ("310104", "Shanghai"),
            ("320102", "Jiangsu"),
            ("370102", "Shandong"),
            ("410102", "Henan"),
            ("430102", "Hunan"),
            ("500103", "Chongqing"),
            ("610102", "Shaanxi"),
        ],
        "age_days": (20 * 365, 58 * 365),
    },
    SENIORS: {
        "relationship": "parent",
        "regions": [
            ("110102", "Beijing"),
            ("320104", "Jiangsu"),
            ("370103", "Shandong"),
            ("430103", "Hunan"),
        ],
        "age_days": (53 * 365, 70 * 365),
    },
    CHILDREN: {
        "relationship": "child",
        "regions": [
            ("310105", "Shanghai"),
            ("410103", "Henan"),
            ("500104", "Chongqing"),
            ("610103", "Shaanxi"),
        ],
        "age_days": (2 * 365, 16 * 365),
    },
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国文志海云飞丹"


def crowd_sizes(adults: int) -> dict:
    """Seniors and children in the default proportions (20,000 : 5,000 : 8,000)."""
    return {ADULTS: adults, SENIORS: adults // 4, CHILDREN: adults * 2 // 5}


def seed(ctx):
    """Named people first (the journeys), then the crowd; every wallet is funded through a
    top-up (henry's stays empty: his first charge will go unpaid)."""
    users, pools, now = ctx["users"], ctx["pools"], ctx["now"]
    ctx["memberships"] = {}
    for seq, row in enumerate(DEMO_PEOPLE, start=1):
        username, rel, name, sex, born, province, slug, days_ago = row
        account = users[username]
        wallet = wallet_for(account)
        if days_ago is None:
            joined = ctx["cutoffs"][-1] - dt.timedelta(days=10)
        else:
            joined = now - dt.timedelta(days=days_ago)
        person, _ = Person.objects.get_or_create(
            identity_number=make_identity_number(REGIONS[province], born, seq),
            defaults=dict(
                account=account,
                relationship=rel,
                full_name=name,
                sex=sex,
                birth_date=born,
                province=province,
            ),
        )
        membership = Membership.objects.filter(person=person, pool=pools[slug]).first()
        if membership is None:
            membership = _join_in_the_past(person, pools[slug], joined, now)
        ctx["memberships"][name] = membership
        if wallet.balance_cents == 0 and FUNDED.get(username) and rel == "self":
            top_up_wallet(account, FUNDED[username])
    sizes = crowd_sizes(ctx["members"])
    if not Person.objects.filter(account__username__startswith=CROWD_PREFIX).exists():
        insert_crowd(pools, sizes, now)


def _join_in_the_past(person, pool, joined, now):
    """A membership that joined `joined` and, its observation period over, became active then."""
    waiting_ends = (joined + dt.timedelta(days=pool.waiting_days)).date()
    active = waiting_ends <= now.date()
    became_active = timezone.make_aware(dt.datetime.combine(waiting_ends, dt.time()), dt.UTC)
    membership = Membership.objects.create(
        person=person,
        pool=pool,
        status=Membership.Status.ACTIVE if active else Membership.Status.WAITING,
        joined_at=joined,
        waiting_ends_on=waiting_ends,
        active_since=waiting_ends if active else None,
        status_changed_at=became_active if active else joined,
    )
    MembershipStatusChange.objects.create(
        membership=membership,
        from_status="",
        to_status="waiting",
        cause="joined",
        actor=person.account,
        at=joined,
    )
    if active:
        MembershipStatusChange.objects.create(
            membership=membership,
            from_status="waiting",
            to_status="active",
            cause="observation period ended",
            at=became_active,
        )
    return membership


def withdraw_one(ctx):
    """Mei Li quits the adult pool (the one-step exit), after the history she paid into."""
    membership = ctx["memberships"]["Mei Li"]
    membership.refresh_from_db()
    if membership.status in Membership.OPEN_STATUSES:
        withdraw_membership(membership, membership.person.account)


# --- The crowd, set-based ---------------------------------------------------------------------


def _days_before(base: str, days: str, datetime_: bool = False) -> str:
    """SQL for the date (or timestamp) `days` days before the parameter `base`."""
    if dialect.is_postgres():
        if datetime_:
            return f"(%({base})s::timestamptz - ({days}) * INTERVAL '1 day')"
        return f"(%({base})s::date - CAST(({days}) AS integer))"
    fn = "datetime" if datetime_ else "date"
    return f"{fn}(%({base})s, (-({days})) || ' days')"


def _midnight(day: str) -> str:
    return f"CAST({day} AS timestamptz)" if dialect.is_postgres() else f"({day} || ' 00:00:00')"


def _yyyymmdd(day: str) -> str:
    return (
        f"to_char({day}, 'YYYYMMDD')" if dialect.is_postgres() else f"strftime('%%Y%%m%%d', {day})"
    )


def _numbers(count_param: str) -> str:
    """A series 0 … count-1 (alias g(n)), portable to SQLite."""
    return f"""g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n + 1 < %({count_param})s)"""


def _pick(chars: str, index: str) -> str:
    return f"substr('{chars}', ({index}) %% {len(chars)} + 1, 1)"


def _identity_sql(first17: str) -> str:
    """first17 followed by its ISO 7064 MOD 11-2 check character, computed in SQL."""
    terms = " + ".join(
        f"CAST(substr({first17}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return f"{first17} || substr('{CHECK_CHARS}', ({terms}) %% 11 + 1, 1)"


def insert_crowd(pools, sizes: dict, now):
    """Accounts (one per adult, seniors and children attached to them as parents and
    children), wallets, persons, memberships and their history, each one statement."""
    adults = sizes[ADULTS]
    if dialect.is_postgres():
        stamp, today = now, now.date()
    else:  # SQLite stores datetimes as text, naive UTC
        stamp, today = now.strftime("%Y-%m-%d %H:%M:%S"), now.date().isoformat()
    params = {
        "now": stamp,
        "today": today,
        "adults": adults,
        "prefix": CROWD_PREFIX,
        "first": CROWD_FIRST,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            WITH RECURSIVE {_numbers("adults")}
            SELECT '!', FALSE, %(prefix)s || (%(first)s + n), '', '',
                   %(prefix)s || (%(first)s + n) || '@example.org', FALSE, TRUE, %(now)s
            FROM g
            """,
            params,
        )
        for slug, size in sizes.items():
            _insert_people(cursor, pools[slug], CROWD_GROUPS[slug], size, params)
        _fund_wallets(cursor, params)
        if dialect.is_postgres():
            cursor.execute("ANALYZE")


def _insert_people(cursor, pool, group: dict, size: int, params: dict):
    regions = group["regions"]
    low, high = group["age_days"]
    region_case = " ".join(f"WHEN {i} THEN '{code}'" for i, (code, _province) in enumerate(regions))
    province_case = " ".join(
        f"WHEN {i} THEN '{province}'" for i, (_code, province) in enumerate(regions)
    )
    span = high - low
    params = {
        **params,
        "size": size,
        "relationship": group["relationship"],
        "pool": pool.pk,
        "low": low,
        "span": span,
        "waiting": pool.waiting_days,
    }
    # Person n: account n mod adults; born `low + 7919 n mod span` days ago (7919, a prime
    # not dividing any span, spreads ages evenly); the identity number's sequence is n div
    # span, so (birth date, sequence) is unique within the group.
    born = _days_before("today", "%(low)s + n * 7919 %% %(span)s")
    first17 = (
        f"(CASE n %% {len(regions)} {region_case} END) || {_yyyymmdd('born')} || "
        f"substr(CAST(1000 + n / %(span)s AS TEXT), 2)"
    )
    cursor.execute(
        f"""
        INSERT INTO members_person (account_id, relationship, full_name, sex, birth_date,
                                    identity_number, province, created_at)
        WITH RECURSIVE {_numbers("size")}
        SELECT u.id, %(relationship)s, x.name, x.sex, x.born, {_identity_sql("x.first17")},
               x.province, %(now)s
        FROM (
            SELECT n, born, {first17} AS first17, name, sex, province
            FROM (
                SELECT n, {born} AS born,
                       {_pick(SURNAMES, "n")} || {_pick(GIVEN, "n * 7 + n / 31")}
                           || {_pick(GIVEN, "n * 13 + 5")} AS name,
                       CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END AS sex,
                       CASE n %% {len(regions)} {province_case} END AS province
                FROM g
            ) y
        ) x
        JOIN auth_user u ON u.username = %(prefix)s || (%(first)s + x.n %% %(adults)s)
        """,
        params,
    )
    # Joined 200 to 900 days ago, one in ten in the last 180 days (still joining), never
    # before the person was 30 days old (children).
    age = "(CAST(julianday(%(today)s) - julianday(p.birth_date) AS INTEGER))"
    if dialect.is_postgres():
        age = "(%(today)s::date - p.birth_date)"
    joined_days = """
        CASE WHEN p.id %% 10 = 0 THEN 1 + p.id * 37 %% 180 ELSE 200 + p.id * 37 %% 700 END"""
    cursor.execute(
        f"""
        INSERT INTO members_membership (person_id, pool_id, status, joined_at, waiting_ends_on,
                                        active_since, status_changed_at)
        SELECT j.id, %(pool)s,
               CASE WHEN j.waiting_ends <= %(today)s THEN 'active' ELSE 'waiting' END,
               j.joined_at, j.waiting_ends,
               CASE WHEN j.waiting_ends <= %(today)s THEN j.waiting_ends END,
               CASE WHEN j.waiting_ends <= %(today)s THEN {_midnight("j.waiting_ends")}
                    ELSE j.joined_at END
        FROM (
            SELECT d.id, {_days_before("now", "d.days", datetime_=True)} AS joined_at,
                   {_days_before("today", "d.days - %(waiting)s")} AS waiting_ends
            FROM (
                SELECT p.id, CASE WHEN {joined_days} < {age} - 30 THEN {joined_days}
                                  ELSE {age} - 30 END AS days
                FROM members_person p
                WHERE p.relationship = %(relationship)s
                  AND p.account_id IN (SELECT u.id FROM auth_user u
                                       WHERE u.username LIKE %(prefix)s || '%%')
            ) d
        ) j
        """,
        params,
    )
    crowd = """m.pool_id = %(pool)s AND m.person_id IN (
        SELECT p.id FROM members_person p JOIN auth_user u ON u.id = p.account_id
        WHERE u.username LIKE %(prefix)s || '%%')"""
    cursor.execute(
        f"""
        INSERT INTO members_membershipstatuschange (membership_id, from_status, to_status,
                                                    cause, actor_id, at)
        SELECT m.id, '', 'waiting', 'joined', p.account_id, m.joined_at
        FROM members_membership m JOIN members_person p ON p.id = m.person_id
        WHERE {crowd}
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO members_membershipstatuschange (membership_id, from_status, to_status,
                                                    cause, actor_id, at)
        SELECT m.id, 'waiting', 'active', 'observation period ended', NULL, m.status_changed_at
        FROM members_membership m
        WHERE m.status = 'active' AND {crowd}
        """,
        params,
    )


def _fund_wallets(cursor, params: dict):
    """Every crowd account tops up its wallet once, through one balanced ledger transaction
    (the sandbox provider's records beside it): most put in ¥400, which six months of shares
    of a family do not use up; one in 500 only ¥12 and one in 300 ¥80, who fall behind, are
    suspended by a collection and, if the retry window passes, lapse."""
    amount = """CASE WHEN u.id %% 500 = 7 THEN 1200 WHEN u.id %% 300 = 11 THEN 8000
                     ELSE 40000 END"""
    crowd = "u.username LIKE %(prefix)s || '%%'"
    provider = system_account(Account.Kind.PAYMENT_PROVIDER)
    cursor.execute(
        "INSERT INTO ledger_transaction (kind, memo, created_at) VALUES "
        "('top-up', 'demo: each member''s first top-up (sandbox)', %(now)s)",
        params,
    )
    cursor.execute("SELECT MAX(id) FROM ledger_transaction")
    txn = cursor.fetchone()[0]
    params = {**params, "txn": txn, "provider": provider.pk, "shift": 2**32}
    cursor.execute(
        f"""
        INSERT INTO ledger_account (kind, owner_id, pool_id, balance_cents)
        SELECT 'wallet', u.id, NULL, {amount} FROM auth_user u WHERE {crowd}
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO members_sandboxpayment (user_id, amount_cents, reference, created_at)
        SELECT u.id, {amount}, 'demo-' || u.id, %(now)s FROM auth_user u WHERE {crowd}
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO ledger_entry (id, transaction_id, account_id, amount_cents)
        SELECT %(txn)s * %(shift)s + a.id, %(txn)s, a.id, a.balance_cents
        FROM ledger_account a JOIN auth_user u ON u.id = a.owner_id
        WHERE a.kind = 'wallet' AND {crowd}
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO ledger_entry (id, transaction_id, account_id, amount_cents)
        SELECT %(txn)s * %(shift)s + %(provider)s, %(txn)s, %(provider)s, -SUM(e.amount_cents)
        FROM ledger_entry e WHERE e.transaction_id = %(txn)s
        """,
        params,
    )
    cursor.execute(
        """
        UPDATE ledger_account SET balance_cents = balance_cents + (
            SELECT e.amount_cents FROM ledger_entry e
            WHERE e.id = %(txn)s * %(shift)s + %(provider)s)
        WHERE id = %(provider)s
        """,
        params,
    )
