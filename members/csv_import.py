"""Bulk enrollment for operators: a CSV file, all rows or none (SPEC 3 rules per row)."""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from members import services
from pools.models import Pool

COLUMNS = [
    "account",
    "relationship",
    "full_name",
    "sex",
    "birth_date",
    "identity_number",
    "province",
    "pool",
]
MAX_ROWS = 10_000


@dataclass
class ImportReport:
    enrolled: int = 0
    errors: list = field(default_factory=list)  # (line number, message)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def import_enrollments(data: bytes, actor) -> ImportReport:
    """Enroll every row with the same service as the web form; any bad row rolls back all."""
    report = ImportReport()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append((0, "The file is not UTF-8 text."))
        return report
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append((1, f"Missing columns: {', '.join(missing)}."))
        return report
    users = get_user_model().objects
    pools = {pool.slug: pool for pool in Pool.objects.all()}
    try:
        with transaction.atomic():
            for line, row in enumerate(reader, start=2):
                if line - 1 > MAX_ROWS:
                    report.errors.append((line, f"More than {MAX_ROWS} rows: split the file."))
                    break
                try:
                    with transaction.atomic():
                        account = users.filter(username=row["account"].strip()).first()
                        if account is None:
                            raise ValidationError(f"No account {row['account']!r}.")
                        pool = pools.get(row["pool"].strip())
                        if pool is None:
                            raise ValidationError(f"No pool {row['pool']!r}.")
                        try:
                            born = dt.date.fromisoformat(row["birth_date"].strip())
                        except ValueError:
                            raise ValidationError("birth_date must be YYYY-MM-DD.") from None
                        details = services.PersonDetails(
                            relationship=row["relationship"].strip(),
                            full_name=row["full_name"],
                            sex=row["sex"].strip(),
                            birth_date=born,
                            identity_number=row["identity_number"],
                            province=row["province"],
                        )
                        services.enroll(
                            account,
                            pool,
                            details=details,
                            declaration_accepted=True,
                            rules_accepted=True,
                            actor=actor,
                        )
                        report.enrolled += 1
                except ValidationError as exc:
                    report.errors.append((line, " ".join(exc.messages)))
            if report.errors:
                raise _Rollback
    except _Rollback:
        report.enrolled = 0
    return report
