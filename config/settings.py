"""Qunyun settings: one module, every value from the environment.

Defaults are the safe production ones (DEBUG off, secure cookies, HSTS); `make run` and
`make test` set the development values explicitly. Any variable may also be given as
`<NAME>_FILE` pointing at a file holding the value (Docker/Kubernetes secrets).
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.FileAwareEnv()  # FOO_FILE=/run/secrets/foo stands in for FOO

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-dev-only-key-never-use-in-production-qunyun-0123456789"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# Keyed hash for API keys. Separate from SECRET_KEY so rotating one does not revoke the other.
API_KEY_HASH_KEY = env.str("API_KEY_HASH_KEY", default=SECRET_KEY)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "core",
    "tenancy",
    "integrations",
    "communities",
    "members",
    "campaigns",
    "care",
    "engagement",
    "metrics",
    "teamwork",
    "ingestion",
    "connectors",
    "portal",
    "demo",
]

MIDDLEWARE = [
    # First: every later step, its log lines and its errors carry the request's id.
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Oversized bodies and NUL characters in the address are refused before any view or query.
    "core.middleware.RequestGuardMiddleware",
    "core.ratelimit.RateLimitHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenancy.middleware.OrganizationMiddleware",
    # Last, as django-axes asks: it turns lockouts raised further in into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.organization",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Two aliases. `default` is the application's role: no superuser, no BYPASSRLS, so PostgreSQL's
# row-level security holds it to the organization in scope (tenancy/rls.py). `system` is the
# role of the few jobs that span organizations (the scheduler's fan-out, the rollups' mark
# scan, /metrics, the platform admin, operators' commands; tenancy/system.py): BYPASSRLS. Both
# are checked by `check --deploy` (tenancy/checks.py); docs/deployment.md creates them.
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
SYSTEM_DATABASE_URL = env.str("SYSTEM_DATABASE_URL", default="") or DATABASE_URL


def _database(url: str) -> dict:
    config = env.db_url_config(url)
    config["ATOMIC_REQUESTS"] = False
    config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # A persistent connection is checked before a request reuses it: after a database restart
    # (failover, upgrade) the dead one is replaced instead of failing the request with a 500
    # (tests/core/test_db_restart.py).
    config["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL;",
            }
        )
    if config["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, plus the organization scope set for row-level security.
        config["ENGINE"] = "tenancy.pgbackend"
        # Behind PgBouncer in transaction mode ("transaction"), one client's transactions run
        # on whichever server connection is free: the scope is then set in every transaction
        # (tenancy/rls.py), and neither server-side cursors nor prepared statements may outlive
        # one. "session" (the default): directly to PostgreSQL or through session pooling.
        config["POOL_MODE"] = env.str("DATABASE_POOL_MODE", default="session")
        if config["POOL_MODE"] not in ("session", "transaction"):
            raise ImproperlyConfigured("DATABASE_POOL_MODE is 'session' or 'transaction'.")
        if config["POOL_MODE"] == "transaction":
            config["DISABLE_SERVER_SIDE_CURSORS"] = True
            config.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return config


def _worker_redis_url(url: str, worker: int) -> str:
    """`url` with its database number moved on by `worker` (0-15, wrapping), exported so
    that what the tests start (the bench's tiny run, Celery) uses the same database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    db = (int(parts.path.lstrip("/") or 0) + worker) % 16
    moved = urlunsplit(parts._replace(path=f"/{db}"))
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        if os.environ.get(name) == url:
            os.environ[name] = moved
    return moved


DATABASES = {"default": _database(DATABASE_URL), "system": _database(SYSTEM_DATABASE_URL)}
if DATABASES["default"]["ENGINE"] != "tenancy.pgbackend":
    # SQLite has no row-level security to bypass: the system jobs use `default` (and tests on
    # SQLite see one database).
    DATABASES["system"]["TEST"] = {"MIRROR": "default"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if TESTING and REDIS_URL and (_xdist_worker := env.str("PYTEST_XDIST_WORKER", default="")):
    # The suite in parallel (pytest-xdist): tests empty their Redis database, so each worker
    # has its own, next to the one given (gw0 keeps it); its test database is its own already.
    REDIS_URL = _worker_redis_url(REDIS_URL, int(_xdist_worker.removeprefix("gw")))
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache; errors count as misses (core/cache.py), never as 500s.
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "qunyun",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate limits (API, failed API authentications, logins, password resets) count in Redis so
# that every process shares them (core/ratelimit.py); per process without it.
RATELIMIT_REDIS_URL = env.str("RATELIMIT_REDIS_URL", default=REDIS_URL)
# The flash-sale stock gate (campaigns/stock_gate.py): stock and per-member counts in Redis in
# front of PostgreSQL's conditional UPDATE; without it every order takes the database path.
STOCK_GATE_REDIS_URL = env.str("STOCK_GATE_REDIS_URL", default=REDIS_URL)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded mode (`make run`): tasks travel through a folder, no Redis needed.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# One queue per kind of work, so production can give each its own worker pool
# (docs/scaling.md); a single worker (`make run`, small installs) consumes them all.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "metrics.tasks.*": {"queue": "metrics"},
    "integrations.tasks.*": {"queue": "delivery"},
    "connectors.tasks.*": {"queue": "delivery"},
    "members.import_tasks.*": {"queue": "imports"},
}
WORKER_QUEUES = "default,metrics,delivery,imports"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# Queueing with the broker down gives up quickly (core/tasks.py logs it; beat catches up).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
ACTION_LEASE_SECONDS = env.int("ACTION_LEASE_SECONDS", default=300)
# The home warns when bot actions have waited longer than this, or when bots that sent events
# before have sent none for this long (integrations/status.py).
BOT_ACTIONS_WAITING_MINUTES = env.int("BOT_ACTIONS_WAITING_MINUTES", default=30)
BOT_SILENT_HOURS = env.int("BOT_SILENT_HOURS", default=24)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Workers log through LOGGING below (JSON in production, with the request id of the request
# that queued the task), not through Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat touches this file on every pass of its loop (config/beat.py): the compose healthcheck
# of the beat container fails when it grows old.
CELERY_BEAT_SCHEDULER = "config.beat:HeartbeatScheduler"
CELERY_BEAT_HEARTBEAT_FILE = env.str(
    "CELERY_BEAT_HEARTBEAT_FILE", default=str(VAR_DIR / "celerybeat-heartbeat")
)
CELERY_TIMEZONE = "UTC"
# The beat schedule is static and small: every job but one (below) is a tenant task that beat
# fans out to each organization (`tenancy.tasks.fan_out`); each app adds its jobs here as they arrive.
TENANT_JOBS = {
    "members.tasks.scan_dormant": timedelta(hours=1),
    "members.tasks.credit_invites": timedelta(hours=1),
    "members.tasks.evaluate_tiers": timedelta(days=1),
    "communities.tasks.dispatch_posts": timedelta(minutes=1),
    "communities.tasks.materialize_plans": timedelta(hours=6),
    "campaigns.tasks.expire_unpaid_orders": timedelta(minutes=1),
    "campaigns.tasks.expire_group_buy_teams": timedelta(minutes=1),
    "campaigns.tasks.run_due_lotteries": timedelta(minutes=1),
    "integrations.tasks.deliver_webhooks": timedelta(minutes=1),
    "connectors.tasks.telegram_send": timedelta(minutes=1),
    "connectors.tasks.wecom_send": timedelta(minutes=1),
    "connectors.tasks.wecom_check_sends": timedelta(minutes=5),
    "connectors.tasks.wecom_sync": timedelta(days=1),
    "metrics.tasks.settle_rollups": timedelta(days=1),
    "care.tasks.make_follow_ups": timedelta(minutes=5),
    "engagement.tasks.close_due_polls": timedelta(minutes=1),
    # Staff notifications (tenancy/notify.py): the scans that find what is urgent, and the
    # emails (queued right after a notification too; this run catches up) and daily digests.
    "care.tasks.alert_due_cases": timedelta(minutes=1),
    "campaigns.tasks.alert_staff": timedelta(minutes=5),
    "tenancy.tasks.send_notification_emails": timedelta(minutes=5),
    "tenancy.tasks.send_notification_digests": timedelta(minutes=30),
    "members.import_tasks.resume_queued_imports": timedelta(minutes=5),
    "teamwork.tasks.open_award_round": timedelta(hours=1),
    "teamwork.tasks.check_goals": timedelta(hours=1),
}
CELERY_BEAT_SCHEDULE = {
    job: {"task": "tenancy.tasks.fan_out", "schedule": every, "args": [job]}
    for job, every in TENANT_JOBS.items()
}
# The one system job: it looks across organizations for the (community, day) marks the source
# tables' triggers insert, and queues a refresh for just those organizations.
CELERY_BEAT_SCHEDULE["metrics.tasks.refresh_marked"] = {
    "task": "metrics.tasks.refresh_marked",
    "schedule": timedelta(seconds=30),
}

# The raw events' monthly partitions (members/partitions.py): system work, not per tenant.
CELERY_BEAT_SCHEDULE["members.tasks.maintain_raw_event_partitions"] = {
    "task": "members.tasks.maintain_raw_event_partitions",
    "schedule": timedelta(hours=6),
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "tenancy.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:  # fast hashing for the suite only
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
INVITATION_TTL = timedelta(days=env.int("INVITATION_TTL_DAYS", default=7))

# Brute-force lockout: five failures for one account from one address lock it for 15 minutes.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field (it holds the email)
AXES_USERNAME_CALLABLE = "tenancy.login_throttle.axes_username"
# …and failed logins from one address across accounts (one password tried on many accounts),
# counted atomically in front of axes (tenancy/login_throttle.py), over the same cool-off.
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
# Password-reset requests: per client address (past it: 429) and per account email (past it:
# the page looks the same, no mail goes out). The mail is sent by a Celery task.
PASSWORD_RESET_ADDRESS_RATE = env.str("PASSWORD_RESET_ADDRESS_RATE", default="10/hour")
PASSWORD_RESET_ACCOUNT_RATE = env.str("PASSWORD_RESET_ACCOUNT_RATE", default="3/hour")
# Public sign-up (a new organization and its owner, tenancy/signup.py). Self-hosted installs
# turn it off and create organizations with `manage.py create_org`. Limited per client address
# (past it: 429) and per email (past it: the page reads the same, nothing is mailed); an
# address locked out of logging in is locked out of signing up too.
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=True)
SIGNUP_ADDRESS_RATE = env.str("SIGNUP_ADDRESS_RATE", default="5/hour")
SIGNUP_EMAIL_RATE = env.str("SIGNUP_EMAIL_RATE", default="3/hour")
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Reverse proxies in front that append to X-Forwarded-For; 0 trusts only the socket's peer.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.net.client_address"

# Webhooks go to public addresses only (integrations/netguard.py). A self-hosted install whose
# bots sit on a private network may allow ranges explicitly, e.g. "10.20.0.0/16,fd00:1::/64".
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"WEBHOOK_ALLOWED_NETWORKS: {_network!r} is not a network (e.g. 10.20.0.0/16)."
        ) from None

# Failed API authentications (bad or revoked keys) per client address.
API_AUTH_FAILURE_RATE = env.str("API_AUTH_FAILURE_RATE", default="60/min")

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Opt-in: preloading commits the domain and all its subdomains to HTTPS for browsers for good,
# which is the customer's decision on their own domain (docs/deployment.md).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^readyz$", r"^healthz$", r"^metrics$"]
# Content-Security-Policy: the dashboard loads only its own static files (Bootstrap, htmx,
# static/qunyun/app.js, vendored libraries under static/vendor/). No inline script or style:
# behaviour lives in app.js, dynamic widths are set from data attributes through the CSSOM.
# Bootstrap's CSS draws its icons (menu, select arrows) from data: SVGs, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Email ----------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
globals().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Qunyun <noreply@qunyun.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- i18n and time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The suite runs in one fixed language: tests/conftest.py activates TEST_LANGUAGE before every
# test, so nothing depends on the language a previous test or request left active. zh-hans,
# because it is what users see by default and what most test assertions read (Chinese UI text
# and member messages); a test about another language says so with translation.override or
# the language cookie / Accept-Language header.
TEST_LANGUAGE = "zh-hans"
if TESTING:
    LANGUAGE_CODE = TEST_LANGUAGE
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_ORG_TIME_ZONE = "Asia/Shanghai"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenancy.api_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenancy.api_permissions.HasCapability"],
    "DEFAULT_THROTTLE_CLASSES": ["tenancy.api_auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env.str("API_THROTTLE_RATE", default="1200/min")},
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["core.api_filters.StrictFilterBackend"],
    # JSON bodies only; the member import (a file upload) sets its own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Qunyun API",
    "DESCRIPTION": (
        "Qunyun (群运) REST API for chat bots and integrations. Authenticate with "
        "`Authorization: Bearer <api key>`; every key is bound to one organization and a role."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "TAGS": [
        {"name": "Events", "description": "What happens in the groups, sent by the bots."},
        {"name": "Actions", "description": "What the bots are asked to do: poll and acknowledge."},
        {"name": "Webhooks", "description": "Actions pushed to the bots, signed; delivery log."},
        {"name": "Groups", "description": "Chat groups, their rules and staff."},
        {"name": "Members", "description": "People, their identities and memberships."},
        {"name": "Moderation", "description": "Warnings and the block list."},
        {"name": "Points and tiers", "description": "VIP tiers, points rules, rewards."},
        {"name": "Campaigns", "description": "Flash sales, group buys, lotteries."},
        {"name": "Coupons", "description": "Coupon templates and giving coupons to members."},
        {"name": "Orders", "description": "Campaign orders and orders the bots reported."},
        {"name": "Member care", "description": "Complaints, after-sales cases, follow-ups."},
        {"name": "Metrics", "description": "Rates, series, staff performance, exports."},
        {"name": "Organization", "description": "The key's organization and the audit log."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.openapi.add_components",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CommunityStatusEnum": "communities.models.CommunityStatus",
        "MembershipStatusEnum": "members.models.MembershipStatus",
        "ActionStatusEnum": "integrations.models.ActionStatus",
        "ImportJobStatusEnum": "members.models.ImportJob.Status",
        "ActionKindEnum": "integrations.models.ActionKind",
        "CommunityKindEnum": "communities.models.CommunityKind",
        "EntryRuleActionEnum": "communities.models.EntryRuleAction",
        "DeliveryStatusEnum": "integrations.models.DeliveryStatus",
        "CaseStatusEnum": "care.models.CaseStatus",
        "CaseKindEnum": "care.models.CaseKind",
        "CaseEventKindEnum": "care.models.CaseEventKind",
        "FollowUpStatusEnum": "care.models.FollowUpStatus",
        "CouponKindEnum": "campaigns.models.CouponKind",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKey": {"type": "http", "scheme": "bearer"}},
    },
    "SECURITY": [{"ApiKey": []}],
}

# The OpenAPI tag of each area, by the first path segment after /api/v1/ (core.api_schema).
API_TAGS = {
    "events": "Events",
    "actions": "Actions",
    "webhooks": "Webhooks",
    "webhook-deliveries": "Webhooks",
    "communities": "Groups",
    "staff-assignments": "Groups",
    "members": "Members",
    "identities": "Members",
    "memberships": "Members",
    "member-imports": "Members",
    "warnings": "Moderation",
    "blocks": "Moderation",
    "tiers": "Points and tiers",
    "points-rules": "Points and tiers",
    "redemption-items": "Points and tiers",
    "campaigns": "Campaigns",
    "teams": "Campaigns",
    "coupon-templates": "Coupons",
    "orders": "Orders",
    "care": "Member care",
    "metrics": "Metrics",
    "me": "Organization",
    "audit-log": "Organization",
}

# Logs: one JSON object per line in production (LOG_FORMAT=json), plain text in development;
# both carry the request id (core/request_id.py), also in Celery tasks a request queued.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG or TESTING else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # httpx logs every request's URL at INFO, and a Bot API URL holds the bot's token
        # (https://api.telegram.org/bot<token>/sendMessage): never below WARNING.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "telegram": {"level": "WARNING"},
    },
}

# Error reporting: Sentry (or a compatible service) when SENTRY_DSN is set, off otherwise.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # Members' and staff's data stay out of error reports: no user, bodies or locals.
        data_collection={"user_info": False, "http_bodies": [], "stack_frame_variables": False},
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )

# Prometheus metrics at /metrics (config/monitoring.py): off unless a token or networks are
# set. With METRICS_TOKEN a scraper sends `Authorization: Bearer <token>`; with
# METRICS_ALLOWED_NETWORKS (e.g. "10.0.0.0/8,127.0.0.1/32") the peer address must be in one;
# with both, both must hold.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS: {_network!r} is not a network (e.g. 10.0.0.0/8)."
        ) from None

# Absolute links in emails (invitations, password resets sent by tasks).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Member pages (portal/): a personal link works once and expires; the session it starts lasts.
MEMBER_LINK_HOURS = env.int("MEMBER_LINK_HOURS", default=48)
MEMBER_SESSION_DAYS = env.int("MEMBER_SESSION_DAYS", default=30)
# A font file covering Chinese for the QR posters' text (core/posters.py); empty: the first
# one fontconfig lists for Chinese, and without any the posters carry the QR code alone.
POSTER_FONT = env.str("POSTER_FONT", default="")
# Encrypts stored bot tokens (core/secrets_box.py); derived from SECRET_KEY when unset.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
# A Telegram Mini App's initData older than this is refused (replayed openings).
TELEGRAM_INIT_DATA_MAX_AGE = env.int("TELEGRAM_INIT_DATA_MAX_AGE", default=3600)
# The Telegram connector (docs/connectors.md). The Bot API's address: Telegram's, or your own
# Bot API server ("{token}" is replaced by the bot's token, else it is appended).
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org/bot")
TELEGRAM_REQUEST_TIMEOUT = env.float("TELEGRAM_REQUEST_TIMEOUT", default=15.0)
TELEGRAM_POLL_TIMEOUT = env.int("TELEGRAM_POLL_TIMEOUT", default=10)  # long poll, seconds
# One poller at a time (connectors/lease.py): the lease it renews every pass, and how often a
# second one standing by tries to take it.
TELEGRAM_POLLER_LEASE_SECONDS = env.int("TELEGRAM_POLLER_LEASE_SECONDS", default=120)
TELEGRAM_POLLER_STANDBY_SECONDS = env.int("TELEGRAM_POLLER_STANDBY_SECONDS", default=15)
# Telegram's published limits: about 30 messages a second per bot, 20 a minute in a group.
TELEGRAM_MESSAGES_PER_SECOND = env.int("TELEGRAM_MESSAGES_PER_SECOND", default=25)
TELEGRAM_GROUP_MESSAGES_PER_MINUTE = env.int("TELEGRAM_GROUP_MESSAGES_PER_MINUTE", default=20)
# The WeCom connector (docs/connectors.md): the API's address (tests point it at their own),
# and how long a 客户群群发 task may wait for the staff member's confirmation before its action
# fails.
WECOM_API_BASE_URL = env.str("WECOM_API_BASE_URL", default="https://qyapi.weixin.qq.com/cgi-bin")
WECOM_REQUEST_TIMEOUT = env.float("WECOM_REQUEST_TIMEOUT", default=15.0)
WECOM_SEND_TASK_DAYS = env.int("WECOM_SEND_TASK_DAYS", default=3)
