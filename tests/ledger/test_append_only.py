import pytest
from django.db import ProgrammingError, connection, transaction

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
