"""Django settings. Every knob comes from the environment through ``tradebot.env``."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

from tradebot import embedded
from tradebot.csp import whitenoise_headers
from tradebot.env import BASE_DIR, data_dir, env

DATA_DIR = data_dir()
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-insecure-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# The dashboard's origin (scheme://host[:port]): the only origin CORS, CSRF, passkeys and the
# WebSocket accept besides the API's own. By default the web process serves the dashboard itself
# (same origin); with the Vite dev server set DASHBOARD_ORIGIN=http://localhost:5173.
API_ORIGIN = env.str("API_ORIGIN", default="http://localhost:8000").rstrip("/")
DASHBOARD_ORIGIN = env.str("DASHBOARD_ORIGIN", default=API_ORIGIN).rstrip("/")
CSRF_TRUSTED_ORIGINS = sorted({DASHBOARD_ORIGIN, API_ORIGIN})

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "channels",
    "django_celery_beat",
    "django_otp",
    "django_otp_webauthn",
    # The project itself: the whole-bot commands (runbot, bootstrap, load_demo_data, embedded), and a
    # ready() that refuses a production start with weak secrets before the project apps start.
    "tradebot",
    "apps.core",
    "apps.bus",
    "apps.accounts",
    "apps.news",
    "apps.sentiment",
    "apps.market",
    "apps.strategies",
    "apps.execution",
    "apps.learning",
    "apps.backtests",
    "apps.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tradebot.urls"
ASGI_APPLICATION = "tradebot.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tradebot" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Databases: PostgreSQL through DATABASE_URL, else the embedded server -------------------------
# `manage.py embedded stop` must not start what it is about to stop.
_NO_EMBED = env.bool("TRADEBOT_NO_EMBEDDED_START", default=False)
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            **(
                embedded.describe_postgres(DATA_DIR)
                if _NO_EMBED
                else embedded.ensure_postgres(DATA_DIR)
            ),
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# The web process (ASGI) runs each request's sync code in a thread of its own, so a persistent
# connection per thread means a new PostgreSQL connection per request. DATABASE_POOL=true shares a
# psycopg pool instead (set for the web process in the Procfile; see docs/api.md, bench/api_bench.py).
if env.bool("DATABASE_POOL", default=False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": 10,
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Fail closed (tradebot/security.py): with DEBUG off and a database of its own, a missing, short or
# placeholder DJANGO_SECRET_KEY (or JWT signing key) stops every process at start-up.
SECRETS_REQUIRED = not DEBUG and bool(env.str("DATABASE_URL", default=""))

# --- Redis: REDIS_URL, else the embedded server ---------------------------------------------------
EMBEDDED_REDIS_PORT = env.int("EMBEDDED_REDIS_PORT", default=6390)
REDIS_URL = env.str("REDIS_URL", default="") or (
    f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    if _NO_EMBED
    else embedded.ensure_redis(DATA_DIR, EMBEDDED_REDIS_PORT)
)

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# No passwords: the first backend only answers permission questions (it never authenticates);
# sign-in is a passkey (django-otp-webauthn), for the API and for the admin alike.
AUTHENTICATION_BACKENDS = [
    "apps.api.auth.backends.PermissionsOnlyBackend",
    "django_otp_webauthn.backends.WebAuthnBackend",
]
OTP_WEBAUTHN_RP_ID = env.str("OTP_WEBAUTHN_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = env.str("OTP_WEBAUTHN_RP_NAME", default="tradebot")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS", default=sorted({DASHBOARD_ORIGIN, API_ORIGIN})
)
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/admin/"

# --- API: JWT sessions, CORS, realtime (docs/api.md) -----------------------------------------------
# HS256 key, >= 32 bytes, from the environment. Without it (development only) a key is derived from
# SECRET_KEY; a production config (SECRETS_REQUIRED: DJANGO_DEBUG off, DATABASE_URL set) refuses to
# start without it (apps/api/apps.py; tradebot/security.py checks its strength too).
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default="")
API_ACCESS_TTL_S = min(env.int("API_ACCESS_TTL_S", default=300), 300)  # <= 5 minutes
API_REFRESH_TTL_S = env.int("API_REFRESH_TTL_S", default=14 * 24 * 3600)
API_REFRESH_COOKIE = "tb_refresh"
API_REFRESH_COOKIE_PATH = "/api/auth/refresh"
API_REFRESH_COOKIE_SECURE = env.bool("API_REFRESH_COOKIE_SECURE", default=True)
API_STEP_UP_TTL_S = 120  # a step-up assertion is good for one action within 2 minutes
API_WS_TICKET_TTL_S = 30
API_REGISTRATION_LINK_TTL_S = 600
API_IDEMPOTENCY_TTL_S = env.int("API_IDEMPOTENCY_TTL_S", default=24 * 3600)
API_EVENTS_MAXLEN = env.int("API_EVENTS_MAXLEN", default=50_000)  # catch-up history kept
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=API_ACCESS_TTL_S),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=API_REFRESH_TTL_S),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY
    or hmac.new(SECRET_KEY.encode(), b"tradebot-jwt", hashlib.sha256).hexdigest(),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "LEEWAY": 0,
}
CORS_ALLOWED_ORIGINS = [DASHBOARD_ORIGIN]
CORS_ALLOW_CREDENTIALS = True  # the refresh cookie
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-step-up",
)
CORS_EXPOSE_HEADERS = ("idempotent-replayed",)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# The dashboard's Vite build: WhiteNoise serves its files at the site root (/assets/...),
# tradebot.dashboard serves index.html for "/" and the app's routes, both with a strict CSP.
DASHBOARD_DIST = env.str("DASHBOARD_DIST", default=str(BASE_DIR / "frontend" / "dist"))
WHITENOISE_ROOT = DASHBOARD_DIST if Path(DASHBOARD_DIST).is_dir() else None
WHITENOISE_ADD_HEADERS_FUNCTION = whitenoise_headers

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JWT only (no session cookie, hence no CSRF surface on the API).
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.api.auth.authentication.JWTFamilyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.Cursor",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "tradebot API",
    "DESCRIPTION": "REST API of the tradebot dashboard. Auth: docs/api.md.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "TradeStatusEnum": "apps.execution.models.Trade.Status",
        "BacktestStatusEnum": "apps.backtests.models.BacktestRun.Status",
        "TradingStateEnum": "apps.execution.models.TradingControl.State",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.add_error_responses",
    ],
}

# --- Celery (CELERY_ namespace, read by tradebot/celery.py) ----------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Tasks are named "<stage>.<action>"; the stage prefix routes them to their queue.
CELERY_TASK_ROUTES = {
    f"{q}.*": {"queue": q}
    for q in ("news", "sentiment", "signals", "execution", "learning", "backtest")
} | {"market.*": {"queue": "signals"}, "bus.maintain": {"queue": "default"}}

# Liveness (tradebot/liveness.py): a task running longer than its time_limit, else this, marks the
# worker stuck in its health check; stuck this much longer, the worker exits to be restarted (0: never).
WORKER_STUCK_AFTER_S = env.float("WORKER_STUCK_AFTER_S", default=900.0)
WORKER_STUCK_EXIT_AFTER_S = env.float("WORKER_STUCK_EXIT_AFTER_S", default=300.0)

# --- The Redis Streams bus -------------------------------------------------------------------------
BUS = {
    # Max entries kept per stream (approximate trim on XADD).
    "MAXLEN": env.int("BUS_MAXLEN", default=100_000),
    # A message pending this long on a consumer is considered abandoned and is reclaimed.
    "CLAIM_IDLE_MS": env.int("BUS_CLAIM_IDLE_MS", default=30_000),
    # Deliveries before a message goes to the dead-letter stream.
    "MAX_DELIVERIES": env.int("BUS_MAX_DELIVERIES", default=5),
    # Messages read per XREADGROUP (one DB transaction per batch).
    "BATCH": env.int("BUS_BATCH", default=100),
    # Outbox rows older than this are re-published by the relay (crash leftovers).
    "OUTBOX_STALE_S": env.float("BUS_OUTBOX_STALE_S", default=5.0),
    # How long a drain task keeps polling an empty stream before it gives the worker back.
    "DRAIN_LINGER_MS": env.int("BUS_DRAIN_LINGER_MS", default=200),
    # How long one drain task keeps the worker before it re-queues itself (other tasks of the queue
    # get a turn): a worker dedicated to a stage's queue can hold it longer.
    "DRAIN_MAX_S": env.float("BUS_DRAIN_MAX_S", default=30.0),
}
# Drains that may run at once per unordered consumer group (a backlog wakes one more, up to this):
# "sentiment=4,probe-1=2". Ordered groups (signals, execution, learning) run one drain at a time
# per partition (BUS_PARTITIONS below).
BUS_DRAINS = {
    "sentiment": 4,
    **{
        k.strip(): int(v)
        for k, _, v in (item.partition("=") for item in env.list("BUS_DRAINS", default=[]))
        if k.strip() and v.strip()
    },
}
# Key partitions of the ordered stages: "signals=2,execution=2" splits each into groups
# signals.0/signals.1 (...), each applying the tickers that hash to it in stream order, drained in
# parallel by the stage's workers. Change it with the stage drained (docs/scaling.md).
BUS_PARTITIONS = {
    k.strip(): int(v)
    for k, _, v in (item.partition("=") for item in env.list("BUS_PARTITIONS", default=[]))
    if k.strip() and v.strip()
}
# Lets the bus probe crash or fail on purpose (tests and the fault suite only).
BUS_FAULT_INJECTION = env.bool("BUS_FAULT_INJECTION", default=False)
# Queues of the four bus-probe stages (health check, bench); default: all on `default`.
BUS_PROBE_QUEUES = env.list("BUS_PROBE_QUEUES", default=[])

# --- Trading ---------------------------------------------------------------------------------------
BROKER_KIND = env.str("BROKER", default="simulated")
ALPACA_API_KEY = env.str("ALPACA_API_KEY", default="")
ALPACA_SECRET_KEY = env.str("ALPACA_SECRET_KEY", default="")
ALPACA_PAPER = env.bool("ALPACA_PAPER", default=True)
ALPACA_BASE_URL = env.str("ALPACA_BASE_URL", default="")  # override: stand-in server in tests
ALPACA_DATA_URL = env.str("ALPACA_DATA_URL", default="")
ALPACA_RATE_LIMIT_PER_MIN = env.int("ALPACA_RATE_LIMIT_PER_MIN", default=200)
# Alpaca adapter and market data (docs/alpaca.md, docs/market.md).
ALPACA_STREAM_URL = env.str("ALPACA_STREAM_URL", default="")  # trade-updates WebSocket override
ALPACA_DATA_STREAM_URL = env.str("ALPACA_DATA_STREAM_URL", default="")  # bars WebSocket override
ALPACA_DATA_FEED = env.str("ALPACA_DATA_FEED", default="iex")  # iex (free) or sip
ALPACA_REQUEST_TIMEOUT_S = env.float("ALPACA_REQUEST_TIMEOUT_S", default=10.0)
ALPACA_RATE_LIMIT_MAX_WAIT_S = env.float("ALPACA_RATE_LIMIT_MAX_WAIT_S", default=30.0)
ALPACA_RETRY_BUDGET_S = env.float("ALPACA_RETRY_BUDGET_S", default=60.0)  # 429 retries, in total
TRADING_ALLOW_EXTENDED_HOURS = env.bool("TRADING_ALLOW_EXTENDED_HOURS", default=False)
MARKET_CALENDAR = env.str("MARKET_CALENDAR", default="XNYS")
MARKET_PRICE_TTL_S = env.int("MARKET_PRICE_TTL_S", default=7 * 24 * 3600)  # latest-price cache
# Default universe: the tickers the bundled bars and news (2015 Q4) both cover.
TRADING_SYMBOLS = env.list("TRADING_SYMBOLS", default=["AAPL", "MSFT", "AMZN", "GOOG", "FB"])
# Signals (apps/strategies): the bars the strategies read, the ensemble's thresholds.
SIGNALS_TIMEFRAME = env.str("SIGNALS_TIMEFRAME", default="1Day")
SIGNALS_LOOKBACK_BARS = env.int("SIGNALS_LOOKBACK_BARS", default=200)
# an article counts for decisions from its published_at + this (live and backtests alike)
NEWS_VISIBLE_AFTER_S = env.float("NEWS_VISIBLE_AFTER_S", default=60.0)
ENSEMBLE_LONG_THRESHOLD = env.float("ENSEMBLE_LONG_THRESHOLD", default=0.15)
ENSEMBLE_SHORT_THRESHOLD = env.float("ENSEMBLE_SHORT_THRESHOLD", default=0.15)
# Risk (apps/execution/risk.py): fractions of equity unless named otherwise.
RISK_PER_TRADE = env.float("RISK_PER_TRADE", default=0.01)
RISK_MAX_POSITION_PCT = env.float("RISK_MAX_POSITION_PCT", default=0.10)
RISK_MAX_EXPOSURE_PCT = env.float("RISK_MAX_EXPOSURE_PCT", default=0.80)
RISK_MAX_OPEN_POSITIONS = env.int("RISK_MAX_OPEN_POSITIONS", default=5)
RISK_STOP_MODE = env.str("RISK_STOP_MODE", default="atr")  # atr | fixed
RISK_STOP_PCT = env.float("RISK_STOP_PCT", default=0.05)
RISK_ATR_MULT = env.float("RISK_ATR_MULT", default=2.0)
RISK_STOP_ORDER_TYPE = env.str("RISK_STOP_ORDER_TYPE", default="stop")  # stop | trailing_stop
RISK_DAILY_LOSS_PCT = env.float("RISK_DAILY_LOSS_PCT", default=0.03)
RISK_MAX_DRAWDOWN_PCT = env.float("RISK_MAX_DRAWDOWN_PCT", default=0.10)
RISK_ALLOW_SHORT = env.bool("RISK_ALLOW_SHORT", default=False)
# The simulated broker (BROKER=simulated): state in Redis, costs from apps/execution/costs.py.
SIM_INITIAL_CASH = env.str("SIM_INITIAL_CASH", default="100000")
SIM_COMMISSION = env.str("SIM_COMMISSION", default="per_share:0.005")  # kind[:value]
SIM_SLIPPAGE = env.str("SIM_SLIPPAGE", default="bps:5")  # kind[:value]
# The fault suite only (`make faults`): the simulated broker answers 429/5xx/time-outs/partial
# fills while a fault window is open, behind the shared request budget (execution/brokers/chaos.py).
BROKER_FAULT_INJECTION = env.bool("BROKER_FAULT_INJECTION", default=False)
# Test-only crash injection ("after_submit": a worker dies between submitting and recording).
EXECUTION_FAULT_INJECTION = env.str("EXECUTION_FAULT_INJECTION", default="")

# --- News and sentiment ----------------------------------------------------------------------------
REDDIT_CLIENT_ID = env.str("REDDIT_CLIENT_ID", default="")
REDDIT_CLIENT_SECRET = env.str("REDDIT_CLIENT_SECRET", default="")
REDDIT_USER_AGENT = env.str("REDDIT_USER_AGENT", default="tradebot/0.1 (self-hosted)")
X_BEARER_TOKEN = env.str("X_BEARER_TOKEN", default="")
# News ingestion (docs/news.md). The URL overrides point the clients at other servers (test stand-ins).
REDDIT_OAUTH_URL = env.str("REDDIT_OAUTH_URL", default="https://oauth.reddit.com")
REDDIT_URL = env.str("REDDIT_URL", default="https://www.reddit.com")
REDDIT_SHORT_URL = env.str("REDDIT_SHORT_URL", default="https://redd.it")
X_API_URL = env.str("X_API_URL", default="https://api.x.com")
NEWS_HTTP_TIMEOUT_S = env.float("NEWS_HTTP_TIMEOUT_S", default=15.0)  # connect / per-read timeout
NEWS_FETCH_DEADLINE_S = env.float("NEWS_FETCH_DEADLINE_S", default=60.0)  # whole download
NEWS_MAX_FEED_BYTES = env.int("NEWS_MAX_FEED_BYTES", default=10 * 1024 * 1024)
NEWS_MAX_ITEMS_PER_POLL = env.int("NEWS_MAX_ITEMS_PER_POLL", default=200)
# Sources may not reach loopback/private/link-local/reserved addresses (SSRF), except these
# networks (CIDRs or addresses), e.g. 10.1.2.0/24 for an intranet feed.
NEWS_ALLOWED_NETWORKS = env.list("NEWS_ALLOWED_NETWORKS", default=[])
# An item dated more than this after the fetch is stored with the fetch time (and a warning).
NEWS_FUTURE_TOLERANCE_S = env.float("NEWS_FUTURE_TOLERANCE_S", default=86400.0)
NEWS_HTTP_USER_AGENT = env.str(
    "NEWS_HTTP_USER_AGENT", default="tradebot/0.1 (self-hosted; admin@localhost)"
)  # SEC EDGAR asks for a contact address in the User-Agent
NEWS_BACKOFF_BASE_S = env.float("NEWS_BACKOFF_BASE_S", default=60.0)
NEWS_BACKOFF_MAX_S = env.float("NEWS_BACKOFF_MAX_S", default=3600.0)
NEWS_POLL_EXPIRES_S = env.float("NEWS_POLL_EXPIRES_S", default=120.0)
NEWS_POLL_TIME_LIMIT_S = env.int("NEWS_POLL_TIME_LIMIT_S", default=120)
FINBERT_MODEL = env.str("FINBERT_MODEL", default="")  # local dir or hub id; empty = not configured
OLLAMA_HOST = env.str("OLLAMA_HOST", default="")
OLLAMA_MODEL = env.str("OLLAMA_MODEL", default="llama3")
SENTIMENT_TIER2_THRESHOLD = env.float("SENTIMENT_TIER2_THRESHOLD", default=0.6)
SENTIMENT_TIER2_TIMEOUT_S = env.float("SENTIMENT_TIER2_TIMEOUT_S", default=10.0)
SENTIMENT_TIER2_COOLDOWN_S = env.float(
    "SENTIMENT_TIER2_COOLDOWN_S", default=60.0
)  # after Ollama fails
# Where manage.py train_sentiment writes the compact offline model (versioned dirs + LATEST pointer).
SENTIMENT_MODELS_DIR = Path(
    env.str("SENTIMENT_MODELS_DIR", default=str(DATA_DIR / "models" / "sentiment"))
)
# `make run` loads the bundled news (false: bars only; the fault suite feeds its own articles).
DEMO_NEWS = env.bool("DEMO_NEWS", default=True)
# `make run` trains the offline model in the background when none exists (false: never).
SENTIMENT_AUTO_TRAIN = env.bool("SENTIMENT_AUTO_TRAIN", default=True)
SENTIMENT_ENGINE = env.str("SENTIMENT_ENGINE", default="onnx")  # trained model on CPU: onnx | torch
SENTIMENT_FINBERT_INT8 = env.bool("SENTIMENT_FINBERT_INT8", default=True)  # CPU: torch dynamic int8
# Transformer tier precision: auto = bf16 on CUDA (fp16 where the GPU lacks bf16), fp32 on CPU.
SENTIMENT_DTYPE = env.str("SENTIMENT_DTYPE", default="auto")  # auto | fp32 | bf16 | fp16
SENTIMENT_THREADS = env.int("SENTIMENT_THREADS", default=0)  # 0 = library default
SENTIMENT_BATCH_SIZE = env.int("SENTIMENT_BATCH_SIZE", default=32)  # rows per inference call
SENTIMENT_MICRO_BATCH = env.int("SENTIMENT_MICRO_BATCH", default=512)  # articles read per batch

# --- Learning (docs/learning.md) -------------------------------------------------------------------
LEARNING = {
    "REWARD": env.str("LEARNING_REWARD", default="roi"),  # roi | sharpe
    "WINDOW": env.int("LEARNING_WINDOW", default=200),  # outcomes per strategy that count
    "DECAY": env.float("LEARNING_DECAY", default=0.99),  # an outcome k trades old counts decay**k
    "DRAWDOWN_PENALTY": env.float("LEARNING_DRAWDOWN_PENALTY", default=0.0),
    "LR": env.str("LEARNING_LR", default="0.2"),
    "MIN_TRADES": env.int("LEARNING_MIN_TRADES", default=20),
    "MAX_SHIFT": env.str("LEARNING_MAX_SHIFT", default="0.1"),  # weight units per cycle
    "FLOOR": env.str("LEARNING_FLOOR", default="0.05"),
    "TEMPERATURE": env.str("LEARNING_TEMPERATURE", default=""),  # empty: 0.0025 roi, 0.1 sharpe
    "DEBOUNCE_S": env.int("LEARNING_DEBOUNCE_S", default=30),  # after a close, cycle this late
    # at most one cycle per this much market time (the replay's clock under a replay)
    "MIN_INTERVAL_S": env.float("LEARNING_MIN_INTERVAL_S", default=86_400.0),
}
PORTFOLIO_INITIAL_CASH = env.str("PORTFOLIO_INITIAL_CASH", default="100000")  # snapshot fallback

# --- Observability ---------------------------------------------------------------------------------
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="tradebot-web")
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
METRICS_PORT = env.int("METRICS_PORT", default=0)  # workers: their own /metrics port (0 = off)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
