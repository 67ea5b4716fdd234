from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION claims_evidence_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the evidence log is append-only: % is refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER claims_evidencerecord_append_only
    BEFORE UPDATE OR DELETE ON claims_evidencerecord
    FOR EACH ROW EXECUTE FUNCTION claims_evidence_log_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS claims_evidencerecord_append_only ON claims_evidencerecord;
DROP FUNCTION IF EXISTS claims_evidence_log_append_only();
"""
SQLITE_FORBID = [
    "CREATE TRIGGER claims_evidencerecord_no_update BEFORE UPDATE ON claims_evidencerecord "
    "BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END",
    "CREATE TRIGGER claims_evidencerecord_no_delete BEFORE DELETE ON claims_evidencerecord "
    "BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END",
]


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORBID:
            schema_editor.execute(statement)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


class Migration(migrations.Migration):
    dependencies = [("claims", "0002_events_evidence_log")]
    operations = [migrations.RunPython(forbid, allow)]
