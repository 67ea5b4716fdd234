"""Table settings that migrations share: row guards (PostgreSQL and SQLite) and fillfactor.

Row guards are triggers that keep rows from being deleted or changed. They are used where a
table gives up a foreign-key check for speed (docs/benchmarks.md): the rows the dropped key
pointed at are then never deleted, so nothing can dangle; an append-only table refuses UPDATE
too. TRUNCATE (the test suite's flush) is not a row event and stays allowed.
"""


def guard_rows(schema_editor, table: str, name: str, message: str, events=("DELETE",)):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{message}';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {name} BEFORE {" OR ".join(events)} ON {table}
                FOR EACH ROW EXECUTE FUNCTION {name}();
            """,
            params=None,
        )
    elif vendor == "sqlite":
        for event in events:
            schema_editor.execute(
                f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def unguard_rows(schema_editor, table: str, name: str, events=("DELETE",)):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();",
            params=None,
        )
    elif vendor == "sqlite":
        for event in events:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{event.lower()}")


def set_fillfactor(schema_editor, table: str, percent: int | None):
    """Leave room on each page for updated rows (HOT updates), or reset it (None); PostgreSQL
    only."""
    if schema_editor.connection.vendor != "postgresql":
        return
    if percent is None:
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    else:
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(percent)})")


def fillfactor_operation(table: str, percent: int | None, previous: int | None):
    """A migration operation that sets a table's fillfactor and reverses to the previous one.

    Pages already written keep their old room until the table is rewritten (VACUUM FULL)."""
    from django.db import migrations

    return migrations.RunPython(
        lambda apps, schema_editor: set_fillfactor(schema_editor, table, percent),
        lambda apps, schema_editor: set_fillfactor(schema_editor, table, previous),
    )
