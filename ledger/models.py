"""Double-entry ledger: every money move is a transaction whose entries sum to zero (SPEC 6)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mutualaid.pairkeys import PairKeyModel, pair_key_check, pair_key_field, pair_key_filter


class Account(models.Model):
    class Kind(models.TextChoices):
        WALLET = "wallet", _("Member wallet")
        PAYMENT_PROVIDER = "provider", _("Payment provider clearing")
        POOL_RESERVE = "reserve", _("Pool reserve")
        FEE_INCOME = "fees", _("Management fee income")
        SPONSOR = "sponsor", _("Sponsor subsidy")
        # Per pool: the write-offs the next batch collects (line D), negative until it has.
        CARRIED_FORWARD = "carried", _("Shortfall carried forward")
        PAYOUTS = "payouts", _("Claim payouts")
        # What members asked to be paid back from their wallets after a pool closed (SPEC 11),
        # owed to them until the payment provider sends it.
        PAYBACKS = "paybacks", _("Wallet pay-backs requested")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    pool = models.ForeignKey(
        "pools.Pool", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    balance_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(kind="wallet"), name="account_one_wallet_per_owner"
            ),
            models.UniqueConstraint(
                fields=["kind", "pool"],
                condition=Q(owner__isnull=True),
                name="account_one_system_account_per_kind_pool",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=~Q(kind="wallet") | Q(balance_cents__gte=0),
                name="account_wallet_never_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="wallet") | Q(owner__isnull=False),
                name="account_wallet_has_owner",
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.WALLET:
            return f"wallet of {self.owner}"
        return f"{self.get_kind_display()}{f' ({self.pool})' if self.pool_id else ''}"


class Transaction(models.Model):
    kind = models.CharField(max_length=30)
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"#{self.pk} {self.kind}"


class EntryQuerySet(models.QuerySet):
    def of_transaction(self, transaction_id: int):
        """A transaction's lines, read as one range of the primary key."""
        return self.filter(**pair_key_filter("transaction_id", transaction_id))


class Entry(PairKeyModel):
    """One account's line of a transaction. Append-only: the database refuses to change or
    delete it.

    A collection writes a line per wallet, so this table is kept lean: no database foreign-key
    checks (the two checks per line tripled the time of that insert, docs/benchmarks.md;
    accounts and transactions are never deleted, a trigger refuses it, so no line can dangle),
    and the id is the pair (transaction, account), so a transaction has one line per account.
    """

    # (transaction, account) as one integer: the primary key also serves the transaction's lines.
    PAIR_KEY = ("transaction_id", "account_id")
    id = pair_key_field(help_text=_("transaction id × 2^32 + account id"))
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        db_index=False,
    )
    # Indexed by entry_account_txn below, which leads with the account.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        db_index=False,
    )
    amount_cents = models.BigIntegerField(help_text=_("Positive credits the account."))

    objects = EntryQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["account", "transaction"], name="entry_account_txn")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="entry_not_zero"),
            pair_key_check(
                "transaction_id", "account_id", name="entry_id_is_transaction_and_account"
            ),
        ]

    def __str__(self):
        return f"{self.account}: {self.amount_cents:+d}"
