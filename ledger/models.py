"""Double-entry ledger: every money move is a transaction whose entries sum to zero (SPEC 6)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Kind(models.TextChoices):
        WALLET = "wallet", _("Member wallet")
        PAYMENT_PROVIDER = "provider", _("Payment provider clearing")
        POOL_RESERVE = "reserve", _("Pool reserve")
        FEE_INCOME = "fees", _("Management fee income")
        SPONSOR = "sponsor", _("Sponsor subsidy")
        PAYOUTS = "payouts", _("Claim payouts")

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


class Entry(models.Model):
    """One line of a transaction. Append-only: the database refuses to change or delete it.

    No database foreign-key checks: a collection writes a line per wallet, and the two checks
    per line tripled the time of that insert (docs/benchmarks.md). Instead accounts and
    transactions are never deleted (a trigger refuses it), so no line can dangle.
    """

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", db_constraint=False
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

    class Meta:
        indexes = [models.Index(fields=["account", "transaction"], name="entry_account_txn")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="entry_not_zero"),
        ]

    def __str__(self):
        return f"{self.account}: {self.amount_cents:+d}"
