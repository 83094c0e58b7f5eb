"""`make run`: migrate, seed, load the demo data, then start every process of the bot."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, seed, load demo data and start web, workers, beat and Flower (honcho)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-start", action="store_true", help="prepare only; start nothing")
        parser.add_argument("--only", default="", help="comma-separated Procfile processes")

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        call_command("bootstrap")
        if "load_demo_data" in get_commands():
            call_command("load_demo_data")
        else:
            self.stdout.write("demo data: no loader installed yet (skipped)")
        call_command("collectstatic", interactive=False, verbosity=0)
        web = int(os.environ.get("WEB_PORT", "8000"))
        flower = int(os.environ.get("FLOWER_PORT", "5555"))
        db = settings.DATABASES["default"]
        self.stdout.write(
            self.style.SUCCESS(
                "\ntradebot is starting:\n"
                f"  dashboard        http://localhost:{web}/   (first user: python manage.py "
                "registration_link <username>, open the link, create a passkey)\n"
                f"  admin            http://localhost:{web}/admin/\n"
                f"  metrics (web)    http://localhost:{web}/metrics\n"
                f"  health           http://localhost:{web}/healthz\n"
                f"  Flower           http://localhost:{flower}/\n"
                "  worker metrics   http://127.0.0.1:9101..9107/metrics "
                "(default, news, sentiment, signals, execution, learning, backtest)\n"
                f"  PostgreSQL       {db.get('HOST')}:{db.get('PORT') or 5432}/{db.get('NAME')}\n"
                f"  Redis            {settings.REDIS_URL}\n"
                f"  broker           {settings.BROKER_KIND}\n"
            )
        )
        if opts["no_start"]:
            return
        procfile = Path(settings.BASE_DIR) / "Procfile"
        honcho = Path(sys.executable).parent / "honcho"
        argv = [str(honcho), "-f", str(procfile), "-d", str(settings.BASE_DIR), "start"]
        if opts["only"]:
            argv += opts["only"].split(",")
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
        sys.stdout.flush()
        os.execve(str(honcho), argv, env)
