"""Print a one-time registration link (10 minutes) for a new (or existing) user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.api.auth.passkeys import registration_link_issue


class Command(BaseCommand):
    help = "Issue a one-time passkey registration link (expires in 10 minutes) for USERNAME."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--staff", action="store_true", help="make the user an admin (Django admin access)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        user, url = registration_link_issue(username=opts["username"], staff=opts["staff"])
        self.stdout.write(f"Registration link for {user.get_username()} (valid 10 minutes):")
        self.stdout.write(url)
