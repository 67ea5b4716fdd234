"""Demo data of this app for `manage.py seed_demo` (idempotent)."""


def seed(ctx):
    """Create this app's demo rows; `ctx` carries what earlier apps created."""
