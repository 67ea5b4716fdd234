"""Primary keys made of a pair of ids, for the hot tables written set-based.

A charge is one membership's share of one batch; a ledger line is one account's line of one
transaction. Such a row's id is the pair in one integer, high id × 2^32 + low id, checked by
the database. So the primary key is also the pair's unique key (one index fewer on a table that
takes a million rows at a time, and no sequence), and the rows of one high id are one range of
the key.
"""

from django.db import models

SHIFT = 32
LOW_IDS = 2**SHIFT  # the low id must be below this (4,294,967,296)


def pair_key(high: int, low: int) -> int:
    return (high << SHIFT) + low


def pair_key_range(high: int) -> tuple[int, int]:
    """The first and last key of the rows of one high id."""
    return pair_key(high, 0), pair_key(high + 1, 0) - 1


def pair_key_filter(high_field: str, high: int) -> dict:
    """Filter arguments for the rows of one high id: the key's range (which the primary key
    index serves) and, to say so, the column."""
    return {"pk__range": pair_key_range(high), high_field: high}


def pair_key_field(help_text: str) -> models.BigIntegerField:
    return models.BigIntegerField(primary_key=True, editable=False, help_text=help_text)


def pair_key_check(high: str, low: str, name: str) -> models.CheckConstraint:
    """The database's check that a row's id is its (high, low) pair."""
    return models.CheckConstraint(
        condition=models.Q(
            id=models.F(high) * LOW_IDS + models.F(low),
            **{f"{low}__gte": 0, f"{low}__lt": LOW_IDS},
        ),
        name=name,
    )


class PairKeyModel(models.Model):
    """A model whose id is its pair `PAIR_KEY` = (high id field, low id field): a row saved
    without an id gets it from its pair. Rows written set-based compute it in their SQL."""

    PAIR_KEY: tuple[str, str]

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is None:
            high, low = self.PAIR_KEY
            self.pk = pair_key(getattr(self, high), getattr(self, low))
        super().save(*args, **kwargs)
