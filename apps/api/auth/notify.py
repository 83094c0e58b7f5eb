"""Close the sockets of a revoked sign-in (signed out, or its refresh family revoked)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def family_group(family: str) -> str:
    return f"fam.{family}"


def sockets_close(*, family: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(family_group(family), {"type": "session.revoked"})
    except Exception as exc:  # noqa: BLE001 - the socket also checks revocation on its own
        log.warning("could not notify sockets of family %s: %s", family, exc)
