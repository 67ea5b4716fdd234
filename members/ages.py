"""Ages and birthdays, one rule for every pool, panel and sweep (29 February included).

Someone born on 29 February has their birthday on 1 March in a common year; so, on 29 February
of a leap year, the people who have reached an age are those born by 28 February (not 1 March)
of the year that many years back.
"""

import datetime as dt


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years of age on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def birthday(born: dt.date, years: int) -> dt.date:
    """The date a person born on `born` turns `years` (29 February → 1 March)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return dt.date(born.year + years, 3, 1)


def born_by(day: dt.date, years: int) -> dt.date:
    """The latest birth date of someone at least `years` old on `day`."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, and that year has none: born by the 28th
        return dt.date(day.year - years, 2, 28)
