"""Single-use WebSocket tickets: 30 s, bound to the user and the sign-in (token family), taken with
GETDEL. No JWT ever appears in a URL."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.api import store

_KEY = "api:wsticket:{}"


def ticket_issue(*, user_id: int, family: str) -> str:
    ticket = store.new_token()
    store.put(
        _KEY.format(ticket),
        {"user_id": user_id, "family": family},
        ttl_s=settings.API_WS_TICKET_TTL_S,
    )
    return ticket


def ticket_take(ticket: str) -> dict[str, Any] | None:
    if not ticket or len(ticket) > 100:
        return None
    return store.take(_KEY.format(ticket))
