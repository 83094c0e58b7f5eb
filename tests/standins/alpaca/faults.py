"""Fault injection for the stand-in: answer a status or hang, for the next N matching requests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Fault:
    """Answer ``status`` (or hang ``hang_s`` seconds first) for the next ``times`` matching requests."""

    status: int | None = None
    hang_s: float = 0.0
    times: int = 1
    method: str | None = None
    path: str | None = None  # prefix of the request path, e.g. "/v2/orders"
    retry_after_s: float | None = None
    message: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or path.startswith(self.path)
        )


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    status: int
