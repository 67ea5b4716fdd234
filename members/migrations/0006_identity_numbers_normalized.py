"""Identity numbers stored normalized (SPEC 3: NFKC, upper case, no spaces, then ASCII only), and
the database refuses any other form. Existing rows are normalized first; two rows that turn out
to be the same person stop the migration with a report, for an operator to resolve."""

import re
import unicodedata

from django.db import migrations, models


def normalized(number):
    folded = unicodedata.normalize("NFKC", number or "").upper()
    return "".join(ch for ch in folded if not ch.isspace())


def normalize_existing(apps, schema_editor):
    Person = apps.get_model("members", "Person")
    seen = dict(Person.objects.values_list("identity_number", "pk"))
    changed, collisions = [], []
    for pk, number in Person.objects.values_list("pk", "identity_number"):
        new = normalized(number)
        if not re.fullmatch(r"[0-9]{17}[0-9X]", new, re.ASCII):
            collisions.append(f"person {pk}: {number!r} is not 17 digits and a digit or X")
            continue
        if new == number:
            continue
        if new in seen:
            collisions.append(f"person {pk} ({number!r}) is person {seen[new]}'s number {new!r}")
        else:
            seen[new] = pk
            changed.append((pk, new))
    if collisions:
        raise RuntimeError(
            "Identity numbers that are invalid, or the same person once normalized; merge or "
            "correct them, then migrate again:\n  " + "\n  ".join(collisions[:50])
        )
    for pk, new in changed:
        Person.objects.filter(pk=pk).update(identity_number=new)
    if changed:
        print(f"\n  normalized {len(changed)} identity number(s)")


class Migration(migrations.Migration):
    dependencies = [("members", "0005_lean_membership_tables")]

    operations = [
        migrations.RunPython(normalize_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.CheckConstraint(
                condition=models.Q(identity_number__regex="^[0-9]{17}[0-9X]$"),
                name="person_identity_number_normalized",
            ),
        ),
    ]
