"""Collecting a published batch (SPEC 3 and 6): the charges are taken from the wallets, in chunks
of account ids, one ledger transaction per chunk; then the fee, the subsidy and the payouts move
and the claims become paid."""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from apportionment import engine
from apportionment.figures import id_ranges
from apportionment.models import Batch, BatchEvent, Charge, Chunk
from claims import workflow
from ledger.models import Account, Entry
from ledger.models import Transaction as LedgerTransaction
from ledger.services import post, system_account, wallet_for
from members.bulk import bulk_change_status
from members.models import Membership
from mutualaid import dialect
from mutualaid.pairkeys import pair_key, pair_key_range
from pools.models import Pool


def _due_filter(retry: bool) -> str:
    """The charges a collection call takes (alias c): one batch's charges not yet settled, or,
    for a retry (after a top-up, or the daily retry), every outstanding charge."""
    if retry:
        return "c.outstanding"
    # The batch's key range as well as its id: the planner then reads the batch's partition
    # alone, where `batch_id` would walk the account range in every online batch's index.
    return (
        "c.id BETWEEN %(first_charge)s AND %(last_charge)s AND c.batch_id = %(batch)s"
        " AND NOT c.outstanding AND c.paid_at IS NULL"
    )


def start_collection(batch: Batch, *, actor=None, via: str = BatchEvent.Via.BEAT) -> Batch:
    """Move a published batch to collecting, in chunks of account ids."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Batch.Status.PUBLISHED:
            raise ValidationError(
                _("Only a published batch can be collected (this one is %(status)s).")
                % {"status": batch.get_status_display()}
            )
        engine.record_batch_event(batch, BatchEvent.Action.COLLECT, actor=actor, via=via)
        engine.move_batch(batch, Batch.Status.COLLECTING)
        # Ranges of equal width over the accounts that owe (account ids are dense enough).
        accounts = Charge.objects.of_batch(batch.pk).aggregate(
            first=Min("account_id"), last=Max("account_id")
        )
        first, last = accounts["first"], accounts["last"]
        bounds = id_ranges(first, last, batch.chunk_size) if first is not None else []
        engine.create_chunks(batch, Chunk.Phase.COLLECT, bounds)
        if not bounds:
            transaction.on_commit(lambda: engine.finish_phase_if_done(batch.pk))
    return batch


COLLECTION_TABLES = (
    "collection_due",
    "collection_account",
    "collection_order",
    "collection_charge",
    "collection_debit",
)


# The order an account's charges are taken in (SPEC 3), over aliases c (charge), p (person)
# and m (membership): oldest batch first; in a batch, the holder's own memberships, then
# family memberships in the order they joined.
PAYING_ORDER = """c.batch_id, CASE WHEN p.relationship = 'self' THEN 0 ELSE 1 END,
                  m.joined_at, m.id"""


# First fit over collection_order (SPEC 3): walking an account's charges in paying order, a
# charge is paid if what remains in the wallet covers it, else it stays unpaid and the next
# are still tried (a smaller one may fit; 0.00 always does). The recursion takes one step per
# charge of the longest account, and runs only for the accounts the wallet does not cover
# (and on a retry), each with a handful of charges. PostgreSQL and SQLite alike.
FIRST_FIT_SQL = """
    WITH RECURSIVE fit (account_id, n, charge_id, payable, remaining) AS (
        SELECT o.account_id, o.n, o.charge_id, o.amount_cents <= o.balance,
               CASE WHEN o.amount_cents <= o.balance THEN o.balance - o.amount_cents
                    ELSE o.balance END
        FROM collection_order o WHERE o.n = 1
        UNION ALL
        SELECT o.account_id, o.n, o.charge_id, o.amount_cents <= f.remaining,
               CASE WHEN o.amount_cents <= f.remaining THEN f.remaining - o.amount_cents
                    ELSE f.remaining END
        FROM fit f JOIN collection_order o ON o.account_id = f.account_id AND o.n = f.n + 1
    )
    SELECT o.charge_id, o.membership_id, o.membership_status, o.account_id, o.pool_id,
           o.amount_cents, f.payable
    FROM fit f JOIN collection_order o ON o.charge_id = f.charge_id
"""


def collect_for_accounts(batch: Batch | None, first_account: int, last_account: int) -> int:
    """Take charges from the wallets of a range of accounts, set-based; returns how many paid.

    An account whose wallet covers all it owes is debited in one line and its charges are not
    written: they are paid because the batch is collected. Only for the other accounts is each
    charge decided, first fit in paying order (SPEC 3, `FIRST_FIT_SQL`); the charges that do not
    fit become outstanding and suspend their memberships. One ledger transaction per call:
    wallets debited, the pool reserves credited. `batch=None` retries the outstanding charges,
    oldest batch first.
    """
    retry = batch is None
    now = timezone.now()
    first_charge, last_charge = pair_key_range(batch.pk) if batch else (None, None)
    params = {
        "batch": batch.pk if batch else None,
        "first_charge": first_charge,
        "last_charge": last_charge,
        "pool": batch.pool_id if batch else None,
        "retry": retry,
        "lo": first_account,
        "hi": last_account,
        "now": now,
        "today": now.date(),
        "memo": f"batch {batch.pk}" if batch else f"retry accounts {first_account}-{last_account}",
    }
    due = _due_filter(retry)
    with connection.cursor() as cursor:
        dialect.set_based(cursor)
        for table in COLLECTION_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"""
            CREATE TEMP TABLE collection_due AS
            SELECT c.account_id, CAST(SUM(c.amount_cents) AS BIGINT) AS due, COUNT(*) AS charges
            FROM apportionment_charge c
            WHERE {due} AND c.account_id BETWEEN %(lo)s AND %(hi)s
            GROUP BY c.account_id
            """,
            params,
        )
        # The wallets are joined in a statement of their own: the planner then knows how many
        # accounts owe (statistics older than the charges cannot tell it) and hash-joins the
        # range's wallets instead of looking each one up.
        cursor.execute(
            """
            CREATE TEMP TABLE collection_account AS
            SELECT d.account_id, w.id AS wallet_id, COALESCE(w.balance_cents, 0) AS balance,
                   d.due, d.charges
            FROM collection_due d
            LEFT JOIN ledger_account w ON w.owner_id = d.account_id AND w.kind = 'wallet'
                AND w.owner_id BETWEEN %(lo)s AND %(hi)s
            """,
            params,
        )
        # Charge by charge, in paying order, for the accounts the wallet does not cover (and
        # for every account on a retry, whose paid charges are marked): first fit (SPEC 3).
        cursor.execute(
            f"""
            CREATE TEMP TABLE collection_order AS
            SELECT c.id AS charge_id, c.membership_id, m.status AS membership_status,
                   c.account_id, b.pool_id, c.amount_cents, a.balance,
                   ROW_NUMBER() OVER (
                       PARTITION BY c.account_id ORDER BY {PAYING_ORDER}
                   ) AS n
            FROM collection_account a
            JOIN apportionment_charge c ON c.account_id = a.account_id
            JOIN apportionment_batch b ON b.id = c.batch_id
            JOIN members_membership m ON m.id = c.membership_id
            JOIN members_person p ON p.id = m.person_id
            WHERE (a.balance < a.due OR %(retry)s) AND {due}
              AND c.account_id BETWEEN %(lo)s AND %(hi)s
            """,
            params,
        )
        cursor.execute("CREATE INDEX collection_order_step ON collection_order (account_id, n)")
        if dialect.is_postgres():
            cursor.execute("ANALYZE collection_order")  # small: lets the recursion use the index
        cursor.execute(f"CREATE TEMP TABLE collection_charge AS {FIRST_FIT_SQL}")
        # What leaves each wallet, and for which pool.
        cursor.execute(
            """
            CREATE TEMP TABLE collection_debit AS
            SELECT a.wallet_id, CAST(%(pool)s AS BIGINT) AS pool_id, a.due AS amount,
                   a.charges AS paid
            FROM collection_account a
            WHERE NOT %(retry)s AND a.balance >= a.due
            UNION ALL
            SELECT a.wallet_id, s.pool_id, CAST(SUM(s.amount_cents) AS BIGINT), COUNT(*)
            FROM collection_charge s JOIN collection_account a ON a.account_id = s.account_id
            WHERE s.payable GROUP BY a.wallet_id, s.pool_id
            """,
            params,
        )
        txn = _post_collection(cursor, params)
        if retry:
            cursor.execute(
                """
                UPDATE apportionment_charge
                SET outstanding = FALSE, paid_at = %(now)s, ledger_txn_id = %(txn)s
                FROM collection_charge s
                WHERE apportionment_charge.id = s.charge_id AND s.payable
                """,
                {**params, "txn": txn.pk if txn else None},
            )
        else:
            cursor.execute(
                """
                UPDATE apportionment_charge SET outstanding = TRUE
                FROM collection_charge s
                WHERE apportionment_charge.id = s.charge_id AND NOT s.payable
                """
            )
        _suspend_unpaid(params)
        if retry:
            _reactivate_settled(params)
        cursor.execute("SELECT CAST(COALESCE(SUM(paid), 0) AS BIGINT) FROM collection_debit")
        paid = int(cursor.fetchone()[0])
        for table in COLLECTION_TABLES:
            cursor.execute(f"DROP TABLE {table}")
    return paid


def _post_collection(cursor, params: dict) -> LedgerTransaction | None:
    """The collection's ledger transaction, from collection_debit: one line per wallet debited
    and one per pool reserve credited, and the balances moved by the same amounts.

    The wallets' lines are written set-based, not through `ledger.services.post`, so their
    sum is checked against the credits here: a wallet the statement missed or met twice would
    otherwise leave the transaction unbalanced without an error."""
    cursor.execute(
        "SELECT pool_id, SUM(amount) FROM collection_debit GROUP BY pool_id HAVING SUM(amount) > 0"
    )
    credits = cursor.fetchall()
    if not credits:
        return None
    txn = LedgerTransaction.objects.create(kind="collection", memo=params["memo"])
    if params["retry"]:  # a wallet may owe charges of more than one pool: one line for all
        wallets = """
            SELECT wallet_id, CAST(SUM(amount) AS BIGINT) AS amount FROM collection_debit
            GROUP BY wallet_id HAVING SUM(amount) > 0 ORDER BY wallet_id
        """
    else:  # one row a wallet already: an account owes in one branch of collection_debit, has
        # one wallet, and every charge is the batch's pool (summing again took 45 ms a chunk)
        wallets = """
            SELECT wallet_id, amount FROM collection_debit WHERE amount > 0 ORDER BY wallet_id
        """
    lines = """
        INSERT INTO ledger_entry (id, transaction_id, account_id, amount_cents)
        SELECT %(first_line)s + d.wallet_id, %(txn)s, d.wallet_id, -d.amount FROM {debits} d
    """
    # The owners' range is redundant but lets the planner read this range's wallets alone: it
    # guessed the rows of the unanalysed temp table and read every wallet (+60 % the statement).
    balances = f"""
        UPDATE ledger_account SET balance_cents = ledger_account.balance_cents - d.amount
        FROM ({wallets}) d WHERE ledger_account.id = d.wallet_id
            AND ledger_account.kind = 'wallet' AND ledger_account.owner_id BETWEEN %(lo)s AND %(hi)s
    """
    line_params = {
        "txn": txn.pk,
        "first_line": pair_key(txn.pk, 0),
        "lo": params["lo"],
        "hi": params["hi"],
    }
    if dialect.is_postgres():  # one statement: the lines are those of the wallets debited
        in_order = "(SELECT * FROM debited ORDER BY wallet_id)"
        cursor.execute(
            f"""
            WITH debited AS ({balances} RETURNING d.wallet_id, d.amount),
                 written AS ({lines.format(debits=in_order)} RETURNING amount_cents)
            SELECT COALESCE(-SUM(amount_cents), 0) FROM written
            """,
            line_params,
        )
        debited = cursor.fetchone()[0]
    else:  # SQLite (the embedded default) has no data-modifying WITH
        cursor.execute(lines.format(debits=f"({wallets})"), line_params)
        written = cursor.rowcount
        cursor.execute(balances, line_params)
        moved = cursor.rowcount
        cursor.execute(
            "SELECT COALESCE(-SUM(amount_cents), 0) FROM ledger_entry WHERE transaction_id = %s",
            [txn.pk],
        )
        debited = cursor.fetchone()[0] if moved == written else None
    credited = sum(total for _pool, total in credits)
    if debited != credited:
        raise ValidationError(
            f"Collection {params['memo']}: the wallets' lines sum to {debited}, the reserves "
            f"are credited {credited}. Nothing was collected."
        )
    for pool_id, total in credits:
        reserve = system_account(Account.Kind.POOL_RESERVE, Pool(pk=pool_id))
        Entry.objects.create(transaction=txn, account=reserve, amount_cents=total)
        Account.objects.filter(pk=reserve.pk).update(balance_cents=F("balance_cents") + total)
    return txn


def _suspend_unpaid(params: dict):
    """Memberships with a charge the wallet did not cover (from collection_charge)."""
    unpaid = RawSQL("SELECT s.membership_id FROM collection_charge s WHERE NOT s.payable", [])
    bulk_change_status(
        Membership.objects.filter(pk__in=unpaid),
        transition="suspend",
        cause="charge unpaid: the wallet did not cover it",
    )


def _reactivate_settled(params: dict):
    """Suspended memberships whose charges this retry settled, and that owe nothing else."""
    settled = RawSQL("SELECT s.membership_id FROM collection_charge s WHERE s.payable", [])
    still_owing = Charge.objects.filter(membership_id=OuterRef("pk"), outstanding=True)
    bulk_change_status(
        Membership.objects.filter(pk__in=settled).exclude(Exists(still_owing)),
        transition="reactivate",
        cause="unpaid charges settled",
    )


def settle_unpaid_charges(user) -> int:
    """After a top-up: retry the account's unpaid charges and reactivate what they settle."""
    with transaction.atomic():
        return collect_for_accounts(None, user.pk, user.pk)


def _complete_collection(batch: Batch):
    """Collection done: move the fee, the subsidy and the payouts; claims become paid."""
    reserve = system_account(Account.Kind.POOL_RESERVE, batch.pool)
    if batch.fee_cents:
        post(
            "fee",
            [
                (reserve, -batch.fee_cents),
                (system_account(Account.Kind.FEE_INCOME), batch.fee_cents),
            ],
            memo=f"management fee of batch {batch.pk}",
        )
    if batch.subsidy_cents:
        post(
            "subsidy",
            [
                (system_account(Account.Kind.SPONSOR), -batch.subsidy_cents),
                (reserve, batch.subsidy_cents),
            ],
            memo=f"sponsor subsidy of batch {batch.pk} ({batch.sponsor_reason or 'annual cap'})",
        )
    settle_carried_forward(batch, reserve)
    engine.move_batch(batch, Batch.Status.COLLECTED, collected_at=timezone.now())
    pay_out(batch)


def settle_carried_forward(batch: Batch, reserve: Account):
    """The batch collected line D (or gave back the surplus U) for the pool's carried-forward
    write-offs: the reserve hands it to the carried-forward account, which it had lent."""
    net = batch.carried_in_cents - batch.surplus_cents
    if net:
        post(
            "carried-forward",
            [(reserve, -net), (system_account(Account.Kind.CARRIED_FORWARD, batch.pool), net)],
            memo=f"shortfall carried into batch {batch.pk} (D - U)",
        )


def pay_out(batch: Batch):
    """Credit each claim of the batch to its claimant's wallet; the claim becomes paid. Then
    the sponsored schemes' claims, from the sponsor's account (`pay_scheme_claims`)."""

    reserve = system_account(Account.Kind.POOL_RESERVE, batch.pool)
    included = batch.batch_claims.select_related("claim__claimant", "claim__membership")
    for item in included:
        if _pay_claim(batch, item, reserve, "payout"):
            bulk_change_status(
                Membership.objects.filter(pk=item.claim.membership_id),
                transition="pay_out",
                cause=f"claim {item.claim_id} paid out",
            )
    pay_scheme_claims(batch)
    engine.move_batch(batch, Batch.Status.PAID_OUT, paid_out_at=timezone.now())


def pay_scheme_claims(batch: Batch):
    """A sponsored scheme's claims listed with the batch are paid by the sponsor, not from the
    reserve the members filled; the membership goes on (the scheme is a cover besides it)."""
    sponsor = system_account(Account.Kind.SPONSOR)
    for item in batch.scheme_payouts.select_related("claim__claimant"):
        _pay_claim(batch, item, sponsor, "scheme-payout")


def _pay_claim(batch: Batch, item, source: Account, kind: str) -> bool:
    """The claim becomes paid and its payout moves from `source` to the claimant's wallet;
    False if it was paid already (a rerun)."""
    claim = item.claim
    if not workflow.run_system_many([claim.pk], "pay", note=f"batch {batch.pk}"):
        return False
    post(
        kind,
        [(source, -item.payout_cents), (wallet_for(claim.claimant), item.payout_cents)],
        memo=f"{kind} of claim {claim.pk} (batch {batch.pk})",
    )
    return True


def _collect_chunk(chunk: Chunk) -> tuple[int, int]:
    return collect_for_accounts(chunk.batch, chunk.first_id, chunk.last_id), 0


engine.register_phase(
    Chunk.Phase.COLLECT,
    running_status=Batch.Status.COLLECTING,
    run=_collect_chunk,
    complete=_complete_collection,
)
