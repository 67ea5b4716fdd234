"""PRC resident identity numbers (GB 11643-1999): 17 digits, then an ISO 7064 MOD 11-2 check."""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# ASCII only: `\d` would take a full-width "３" and let one person be covered twice.
PATTERN = re.compile(r"^[0-9]{17}[0-9X]$", re.ASCII)
# The same rule as a database check (members 0006): SQL regular expressions are ASCII here.
STORED_PATTERN = r"^[0-9]{17}[0-9X]$"


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def make_identity_number(region: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid number (used for demo and test data)."""
    first17 = f"{region:0>6}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)


def normalize(number: str) -> str:
    """The stored form (SPEC 3): Unicode NFKC (full-width digits become ASCII), upper case, no
    spaces. What is still not ASCII is refused by validate_identity_number."""
    folded = unicodedata.normalize("NFKC", number or "").upper()
    return "".join(ch for ch in folded if not ch.isspace())


def validate_identity_number(number: str, birth_date: dt.date | None = None) -> str:
    """Return the normalized number, or raise ValidationError saying what is wrong."""
    number = normalize(number)
    if not PATTERN.match(number):
        raise ValidationError(
            _("An identity number has 17 digits followed by a digit or X."), code="format"
        )
    try:
        embedded = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date inside this identity number is not a real date."), code="date"
        ) from None
    if check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("This identity number's check digit is wrong; please check it for a typo."),
            code="checksum",
        )
    if birth_date and embedded != birth_date:
        raise ValidationError(
            _("The identity number does not match the date of birth."), code="birth_date"
        )
    return number
