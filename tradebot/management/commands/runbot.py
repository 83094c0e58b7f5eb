"""`make run`: migrate, seed, load the demo data, then start every process of the bot."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from tradebot import embedded, supervision


class Command(BaseCommand):
    help = (
        "Migrate, seed, load demo data and start web, workers, beat and Flower under supervisord "
        "(a process that dies is restarted). --stop stops it all, --status shows it."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-start", action="store_true", help="prepare only; start nothing")
        parser.add_argument("--only", default="", help="comma-separated Procfile processes")
        parser.add_argument(
            "--stop", action="store_true", help="stop the running bot and the embedded servers"
        )
        parser.add_argument("--status", action="store_true", help="processes and restart counts")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["stop"]:
            self._stop()
            return
        if opts["status"]:
            for line in supervision.status_lines(settings.DATA_DIR):
                self.stdout.write(line)
            return
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
                "passkey_link <username> --staff, open the link, create a passkey)\n"
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
        if supervision.supervisord_pid(settings.DATA_DIR) is not None:
            raise CommandError(
                f"the bot already runs from {settings.DATA_DIR} (stop it with `make stop`)"
            )
        conf = supervision.write_config(
            data_dir=settings.DATA_DIR,
            procfile=Path(settings.BASE_DIR) / "Procfile",
            base_dir=Path(settings.BASE_DIR),
            only=[p for p in opts["only"].split(",") if p] or None,
        )
        self.stdout.write(
            f"supervisord: {conf} (a process that dies is restarted; `manage.py runbot --status`)"
        )
        supervisord = Path(sys.executable).parent / "supervisord"
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
        sys.stdout.flush()
        os.execve(str(supervisord), [str(supervisord), "-c", str(conf)], env)

    def _stop(self) -> None:
        if supervision.stop(settings.DATA_DIR):
            self.stdout.write("bot stopped (supervisord and every process)")
        else:
            self.stdout.write("bot: not running")
        embedded.stop_all(settings.DATA_DIR, settings.EMBEDDED_REDIS_PORT)
        self.stdout.write("embedded servers stopped")
