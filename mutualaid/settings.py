"""Settings for mutualaid, read from the environment (django-environ).

With no DATABASE_URL / REDIS_URL set, the app runs on an embedded default: a SQLite file and
kombu's filesystem broker under var/, so `bin/run` needs no server. Production sets both
(see docker-compose.yml) and uses mutualaid.settings_production.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("MUTUALAID_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
)

DEBUG = env("DEBUG")
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-" + "0" * 40)
# The key of the salts in the batches' Merkle trees (SPEC 7): without it a sibling's hash in a
# member's proof could be guessed back to another member's id and amount. Required in
# production (settings_production); changing it changes every root (recompute_merkle_roots).
PROOF_SALT_KEY = env.str("PROOF_SALT_KEY", default="dev-only-proof-salt-key")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "axes",
    "csp",
    "mutualaid",
    "pools",
    "members",
    "ledger",
    "claims",
    "notice",
    "apportionment",
    "reports",
    "statements",
]

MIDDLEWARE = [
    "mutualaid.health.HealthCheckMiddleware",
    "mutualaid.db_router.ReplicaMiddleware",
    "mutualaid.input_guard.InputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mutualaid.sessions.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "members.languages.RememberLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "mutualaid.throttling.LoginBudgetMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "mutualaid.urls"
WSGI_APPLICATION = "mutualaid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mutualaid.context_processors.nav",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mutualaid.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: a new PostgreSQL connection per request costs more than the page.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Lets parallel test runs (one per helper or CI job) keep their own test databases apart.
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=None)}
else:
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
# Public reads on a PostgreSQL streaming replica of the primary (mutualaid.db_router; bin/replica
# runs one on this machine). In tests it is a mirror of the primary's test database: Django
# creates none on it, and replication brings it there (a test reading it commits its rows).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 2},
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["mutualaid.db_router.ReplicaRouter"]
# Off: every read on the primary even with a replica (the test suite, but for the router's tests).
REPLICA_READS = env.bool("REPLICA_READS", default=True)
# The views whose GETs read the replica: the open books, the same for everybody (or, for proofs,
# a member's charges in a published batch, written once).
REPLICA_READ_VIEWS = frozenset(
    {
        "reports",
        "report-detail",
        "report-proof",
        "notice",
        "notice-record",
        "api-notice",
        "batch-list",
        "batch-detail",
        "batch-proof",
    }
)
# After a write, how long that browser reads the primary everywhere: the lag measured with
# bin/replica here is milliseconds; seconds leave room for a busy primary.
REPLICA_READ_YOUR_WRITES_SECONDS = env.int("REPLICA_READ_YOUR_WRITES_SECONDS", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "mutualaid.throttling.LoginBudgetBackend",  # the address's log-in budget, across usernames
    "mutualaid.auth.ModelBackend",  # Django's, reading the signed-in user more cheaply
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "mutualaid.throttling.locked_out"  # our 429 page, with Retry-After
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Evidence files are private: they live outside STATIC/MEDIA URLs and are served by a view
# that checks who is asking.
EVIDENCE_ROOT = Path(env.str("EVIDENCE_ROOT", default=str(VAR_DIR / "evidence")))
MEDIA_ROOT = EVIDENCE_ROOT
# Archived batches' charges (archive_batches): compressed files, one a batch.
ARCHIVE_ROOT = Path(env.str("ARCHIVE_ROOT", default=str(VAR_DIR / "archive")))

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mutualaid <noreply@localhost>")

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Celery's Redis caveats: the visibility timeout must exceed the longest task (and ETA);
    # it is set for the broker and, should a Redis result backend be added, for it too.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Kept below the Redis visibility timeout so a message is never redelivered while its task runs.
CELERY_TASK_TIME_LIMIT = 1800
CELERY_TASK_SOFT_TIME_LIMIT = 1500
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")

# --- Caches -------------------------------------------------------------------------------
# "shared" holds rendered page content and sessions across the web processes (mutualaid.pagecache):
# Redis at CACHE_URL, a database of its own (the test suite clears it), never the broker's.
# "default" holds the rate-limit counters: in that Redis too, so every process counts against
# one budget (while Redis is unreachable the counters are skipped, never the requests). Without
# CACHE_URL nothing is cached and each process keeps its own counters.
CACHE_URL = env.str("CACHE_URL", default="")
SHARED_REDIS = {
    "BACKEND": "mutualaid.cache.ResilientRedisCache",
    "LOCATION": CACHE_URL,
    "KEY_PREFIX": "mutualaid",
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
CACHES = {
    "default": (
        SHARED_REDIS if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    "shared": (
        SHARED_REDIS if CACHE_URL else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    ),
}
# Session reads from the shared cache, the database kept as the record (no cache: the database).
SESSION_ENGINE = "mutualaid.sessions"
SESSION_CACHE_ALIAS = "shared"

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call answers 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "mutualaid.api.exception_handler",
    # JSON bodies only; the evidence upload declares multipart itself.
    "DEFAULT_PARSER_CLASSES": ["mutualaid.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # The client's address is REMOTE_ADDR unless NUM_PROXIES proxies in front add theirs to
    # X-Forwarded-For (DRF's default trusts whatever address a client writes there).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    # anon/user: every API request, per address or per member. "create": claims and objections
    # per member, web and API together. "signup", "login": per address, every attempt, whoever
    # asks (login: page, admin and API token together). The load run raises them by env.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("ANON_RATE", default="120/min"),
        "user": env.str("USER_RATE", default="600/min"),
        "create": env.str("CREATE_RATE", default="30/hour"),
        "signup": env.str("SIGNUP_RATE", default="20/hour"),
        "login": env.str("LOGIN_RATE", default="60/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mutualaid API",
    "DESCRIPTION": "Online mutual-aid pools: enrollment, claims, apportionment, open books.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: read-only fields are not required of a
    # request, write-only ones are not promised in a response (generated clients rely on it).
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "MembershipStatusEnum": "members.models.Membership.Status",
        "BatchStatusEnum": "apportionment.models.Batch.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mutualaid.api.add_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Content-Security-Policy: scripts only from our own origin (no inline scripts anywhere);
# inline style attributes are allowed (the Django admin uses them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# How stale a heartbeat may get before the admin flags the scheduler or worker as stopped.
HEARTBEAT_STALE_SECONDS = env.int("HEARTBEAT_STALE_SECONDS", default=300)
