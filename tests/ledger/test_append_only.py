import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from ledger.models import Account, Entry
from ledger.services import balances_match_entries, post, system_account, wallet_for
from tests.factories import UserFactory


def raw(sql, params):
    """Beneath Django's own PROTECT: what the database itself allows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_the_database_keeps_the_ledger_append_only():
    """The lines give up their foreign-key checks for speed (migration ledger 0003); these
    rules keep them from dangling or changing."""
    wallet = wallet_for(UserFactory())
    txn = post("top_up", [(system_account(Account.Kind.PAYMENT_PROVIDER), -500), (wallet, 500)])
    line = Entry.objects.get(transaction=txn, account=wallet)

    with pytest.raises(ProgrammingError, match="never changed or deleted"):
        raw("UPDATE ledger_entry SET amount_cents = 1 WHERE id = %s", [line.pk])
    with pytest.raises(ProgrammingError, match="never changed or deleted"):
        raw("DELETE FROM ledger_entry WHERE id = %s", [line.pk])
    with pytest.raises(ProgrammingError, match="accounts are never deleted"):
        raw("DELETE FROM ledger_account WHERE id = %s", [wallet.pk])
    with pytest.raises(ProgrammingError, match="transactions are never deleted"):
        raw("DELETE FROM ledger_transaction WHERE id = %s", [txn.pk])

    assert Entry.objects.get(pk=line.pk).amount_cents == 500
    assert balances_match_entries()


@pytest.mark.django_db
def test_a_transaction_has_one_line_per_account():
    """A line's id is its (transaction, account): post() adds up an account's amounts, and the
    database refuses a second line of an account, or an id that is not the pair."""
    provider = system_account(Account.Kind.PAYMENT_PROVIDER)
    wallet = wallet_for(UserFactory())
    txn = post("top_up", [(provider, -300), (wallet, 100), (wallet, 200), (provider, 0)])
    lines = dict(Entry.objects.of_transaction(txn.pk).values_list("account_id", "amount_cents"))
    assert lines == {provider.pk: -300, wallet.pk: 300}
    assert Entry.objects.get(account=wallet).pk == (txn.pk << 32) + wallet.pk
    assert Entry.objects.of_transaction(txn.pk + 1).count() == 0

    def another_line(line_id):
        raw(
            "INSERT INTO ledger_entry (id, transaction_id, account_id, amount_cents) "
            "VALUES (%s, %s, %s, 1)",
            [line_id, txn.pk, wallet.pk],
        )

    with pytest.raises(IntegrityError):
        another_line((txn.pk << 32) + wallet.pk)  # a second line of the wallet
    with pytest.raises(IntegrityError):
        another_line((txn.pk << 32) + wallet.pk + 1)  # not (transaction, account)
    assert balances_match_entries()
