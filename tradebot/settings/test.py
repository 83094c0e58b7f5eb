"""Test settings: only overrides. Tests run against real PostgreSQL and Redis."""

from tradebot.settings.base import *  # noqa: F403
from tradebot.settings.base import BUS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
BUS = {**BUS, "CLAIM_IDLE_MS": 500, "MAX_DELIVERIES": 3, "OUTBOX_STALE_S": 0.0}
BUS_FAULT_INJECTION = True
SECRETS_REQUIRED = False  # tests run on their own database with the development key
# The news tests' stand-in servers listen on loopback (tests of the SSRF guard narrow this).
NEWS_ALLOWED_NETWORKS = ["127.0.0.1/32", "::1/128"]

# A fixed JWT key (>= 32 bytes) so tests sign and verify like production does.
JWT_SIGNING_KEY = "test-jwt-signing-key-0123456789abcdef0123456789"
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SIGNING_KEY}  # noqa: F405
