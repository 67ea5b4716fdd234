import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from members.identity import make_identity_number, validate_identity_number


def test_valid_number_round_trips():
    number = make_identity_number("110105", dt.date(1949, 12, 31), 21)
    assert validate_identity_number(number.lower()) == number


def test_known_public_example():
    # The standard's worked example: 11010519491231002X.
    assert validate_identity_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    "number,code",
    [
        ("1101051949123100", "format"),
        ("110105194912310021", "checksum"),
        ("110105194902300025", "date"),
    ],
)
def test_invalid_numbers_say_why(number, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_identity_number(number)
    assert excinfo.value.code == code


def test_number_must_match_birth_date():
    number = make_identity_number("110105", dt.date(1990, 1, 1), 1)
    with pytest.raises(ValidationError) as excinfo:
        validate_identity_number(number, birth_date=dt.date(1990, 1, 2))
    assert excinfo.value.code == "birth_date"
