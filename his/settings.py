"""Settings, all read from the environment.

Every variable is read through one of the small helpers below, which stop start-up with a
message naming the variable when its value cannot be used. Nothing here is secret or
machine-specific; see README.md for the list of variables.
"""

import datetime
import ipaddress
import os
import secrets
import time
import zoneinfo
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name}={raw!r} names no value: give a comma-separated list.")
    return items


def env_networks(name: str) -> list:
    """Comma-separated addresses or CIDR networks."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or network.") from None
    return networks


def env_time_zone(name: str, default: str) -> str:
    raw = os.environ.get(name, default)
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={raw!r} is not an IANA time zone (e.g. Europe/Madrid).") from None
    return raw


def env_database(name: str, default: str) -> dict:
    raw = os.environ.get(name) or default
    try:
        config = dj_database_url.parse(raw, conn_max_age=env_int("HIS_DB_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured(f"{name}={raw!r} is not a usable database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        # IMMEDIATE: a transaction takes the write lock when it starts, so a check-then-insert
        # inside atomic() cannot interleave with another writer. WAL keeps readers unblocked;
        # busy_timeout makes a second writer wait for the lock instead of failing at once.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 10,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
    elif engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"{name}={raw!r}: only sqlite:// and postgres:// databases are supported.")
    config["CONN_HEALTH_CHECKS"] = True
    return config


DEBUG = env_bool("HIS_DEBUG", False)


def local_secret_key(path: Path) -> str:
    """A key kept in a file beside the project, made on first start; shared by every worker."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker may be writing it this very moment
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise ImproperlyConfigured(f"{path} is empty: delete it or set HIS_SECRET_KEY.") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = os.environ.get("HIS_SECRET_KEY", "")
if not SECRET_KEY:
    SECRET_KEY = local_secret_key(BASE_DIR / ".secret_key")
elif len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("HIS_SECRET_KEY is too short: use at least 50 random characters.")

ALLOWED_HOSTS = env_list("HIS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
TIME_ZONE = env_time_zone("HIS_TIME_ZONE", "Europe/Madrid")
USE_TZ = True
# The admin and the desk speak the hospital's language: English, Spanish or Italian (a switch on every
# page changes it for the session). The webservices answer in tuOtempO's words whatever it is.
LANGUAGES = [("en", "English"), ("es", "Español"), ("it", "Italiano")]
LANGUAGE_CODE = env_str("HIS_LANGUAGE", "en").strip().lower()
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"HIS_LANGUAGE={LANGUAGE_CODE!r}: use one of {', '.join(dict(LANGUAGES))}.")
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates dd/mm/yyyy and 24-hour times in every language (his/formats/).
FORMAT_MODULE_PATH = ["his.formats"]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MEDIA_ROOT = Path(env_str("HIS_MEDIA_ROOT", str(BASE_DIR / "media"))).resolve()
MEDIA_URL = "/media/"  # never routed: result files are served only through the webservices
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Bodies larger than this are refused with 413 before they are read whole.
HIS_MAX_BODY_BYTES = env_int("HIS_MAX_BODY_BYTES", 25 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = HIS_MAX_BODY_BYTES
# Failed authentications allowed per address (and per client name) within the window, in seconds.
HIS_AUTH_FAILURE_LIMIT = env_int("HIS_AUTH_FAILURE_LIMIT", 10, minimum=1)
HIS_AUTH_FAILURE_WINDOW = env_int("HIS_AUTH_FAILURE_WINDOW", 300, minimum=1)
# Load balancers / reverse proxies whose X-Forwarded-For is believed: the caller's address (for the
# allow-lists, throttling and the audit log) is then the last address in it that is not a proxy.
HIS_TRUSTED_PROXIES = env_networks("HIS_TRUSTED_PROXIES")
# File exchange (docs/exchange.md): the secret of URLs that carry none, an SFTP key, the SFTP hosts trusted.
HIS_EXCHANGE_PASSWORD = env_str("HIS_EXCHANGE_PASSWORD", "")
HIS_EXCHANGE_KEY_FILE = env_str("HIS_EXCHANGE_KEY_FILE", "")
HIS_EXCHANGE_KNOWN_HOSTS = env_str("HIS_EXCHANGE_KNOWN_HOSTS", str(Path.home() / ".ssh" / "known_hosts"))
# Sincro (docs/sincro.md): the integration client whose support-table rows `manage.py sincro_worker`
# applies; empty: no Sincro (and no worker check in /health/ready). How often a worker looks for rows
# when nothing wakes it (SQLite polls; PostgreSQL wakes it on each insert), and how long a worker may
# stay silent before /health/ready reports Sincro down.
HIS_SINCRO_CLIENT = env_str("HIS_SINCRO_CLIENT", "")
HIS_SINCRO_POLL_SECONDS = env_int("HIS_SINCRO_POLL_SECONDS", 1, minimum=1)
HIS_SINCRO_HEARTBEAT_SECONDS = env_int("HIS_SINCRO_HEARTBEAT_SECONDS", 60, minimum=5)
# How many days ahead TT_RESERVATIONS reaches (0: no end); a bound keeps it fast with many future appointments.
HIS_SINCRO_DAYS_AHEAD = env_int("HIS_SINCRO_DAYS_AHEAD", 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django.contrib.postgres",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from this server: the docs work without the internet
    "his",
    # The domain
    "core",
    "centers",
    "clients",
    "axes",
    "patients",
    "appointments",
    "results",
    # The ways in
    "webservices",
    "exchange",
    "probe",
    "desk",
    "sincro",
    "demo",
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.RequestMiddleware",  # first: the request id and the log line cover everything else
    "his.middleware.PlainNotFoundMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "webservices.middleware.WebserviceMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "his.urls"
WSGI_APPLICATION = "his.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# The admin's login: django-axes refuses an address for a user name after HIS_AUTH_FAILURE_LIMIT failures
# within HIS_AUTH_FAILURE_WINDOW seconds (counted in the database every instance shares), as the
# webservices do for a client name; another address, or the right password from it, is not affected.
AUTHENTICATION_BACKENDS = ["clients.backends.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = HIS_AUTH_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(seconds=HIS_AUTH_FAILURE_WINDOW)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_CLIENT_IP_CALLABLE = "clients.addresses.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # refusals are in the audit log; a lock-out ends by itself (or: manage.py axes_reset)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Security headers; the cookie and HSTS settings matter once served over HTTPS (HIS_HTTPS=1).
HIS_HTTPS = env_bool("HIS_HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Messages can carry a new client's secret: kept in the session on the server, never in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SECURE = HIS_HTTPS
CSRF_COOKIE_SECURE = HIS_HTTPS
SECURE_SSL_REDIRECT = HIS_HTTPS and env_bool("HIS_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HIS_HTTPS else None
SECURE_HSTS_SECONDS = 31536000 if HIS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HIS_HTTPS
SECURE_HSTS_PRELOAD = HIS_HTTPS

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "webservices.rest.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hospital webservices for tuOtempO",
    "DESCRIPTION": (
        "The methods tuOtempO calls on the hospital, as in its integration guide. Every answer is the "
        "envelope {result, return, msg, code}. Parameter names are accepted in any letter case. "
        "Authenticate with HTTP Basic (client name and secret) or Bearer (secret)."
    ),
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PUBLIC": True,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "PREPROCESSING_HOOKS": ["webservices.rest.schema_endpoints"],
    "SORT_OPERATION_PARAMETERS": False,  # the guide's order (AVA_START_DAY before AVA_END_DAY)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Operations (docs/operations.md). GET /metrics answers callers from these networks (default: this
# machine) or with the bearer token; GET /health/live and /health/ready answer anyone.
HIS_METRICS_ALLOWED = env_networks("HIS_METRICS_ALLOWED") or [
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
]
HIS_METRICS_TOKEN = env_str("HIS_METRICS_TOKEN", "").strip()
if HIS_METRICS_TOKEN and len(HIS_METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("HIS_METRICS_TOKEN is too short: use at least 32 random characters.")

# json: one JSON object per line, for a log pipeline; text: readable lines (make run).
HIS_LOG_FORMAT = env_str("HIS_LOG_FORMAT", "json").strip().lower()
if HIS_LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"HIS_LOG_FORMAT={HIS_LOG_FORMAT!r}: use json or text.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "ops.logs.ScrubFilter"}},
    "formatters": {
        "json": {"()": "ops.logs.JsonFormatter"},
        "text": {"()": "ops.logs.TextFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": HIS_LOG_FORMAT, "filters": ["scrub"]}},
    "root": {"handlers": ["console"], "level": env_str("HIS_LOG_LEVEL", "WARNING")},
    "loggers": {
        # One line per request answered (ops/middleware.py), whatever HIS_LOG_LEVEL says.
        "his.requests": {"level": "INFO"},
        # Django's own line for every 4xx answer repeats the request line: only its 5xx lines are kept.
        "django.request": {"level": "ERROR"},
        # spyne logs every fault it sends, client faults included, with a traceback: noise, not news.
        "spyne.application.client": {"level": "CRITICAL"},
    },
}
