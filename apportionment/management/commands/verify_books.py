"""python manage.py verify_books — the invariants of SPEC 6 over the whole ledger."""

from django.core.management.base import BaseCommand, CommandError

from apportionment.books import check_books


class Command(BaseCommand):
    help = (
        "Check the books: balanced ledger transactions, every batch's charges + S = A and its "
        "shortfall, every pool reserve = minus its unpaid charges in their retry window."
    )

    def handle(self, **options):
        problems, checked = check_books()
        for line in checked:
            self.stdout.write(line)
        if problems:
            raise CommandError("The books do not balance:\n" + "\n".join(problems))
        self.stdout.write("The books balance.")
