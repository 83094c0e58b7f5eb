"""Bench set-up: a database of its own (created and migrated), Django configured."""

from __future__ import annotations

import os


def setup_django(db_name: str = "tradebot_bench") -> None:
    """Point DATABASE_URL at ``db_name`` on the same server, create + migrate it, set up Django."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        base, _, _ = url.rpartition("/")
        admin_url = f"{base}/postgres"
        os.environ["DATABASE_URL"] = f"{base}/{db_name}"
        import psycopg

        with psycopg.connect(
            admin_url.replace("postgres://", "postgresql://"), autocommit=True
        ) as c:
            if not c.execute("SELECT 1 FROM pg_database WHERE datname=%s", [db_name]).fetchone():
                c.execute(f'CREATE DATABASE "{db_name}"')
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradebot.settings.base")
    # A throw-away key: benchmarks serve nothing, but base settings on a DATABASE_URL fail closed.
    import secrets

    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_hex(32))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
