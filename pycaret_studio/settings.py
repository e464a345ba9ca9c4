"""Django settings for PyCaret Studio: one file, driven by environment variables."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from pycaret_studio.storage_url import storage_from_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STUDIO_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _development_secret_key() -> str:
    # Generated once and kept in var/, so sessions survive restarts of `make run`.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# Debug pages show source, settings and every URL: only ever on when asked for.
DEBUG = envbool("DEBUG", False)
# With no ALLOWED_HOSTS the studio is a local install (a fresh clone, `make run`, the tests): it
# answers only on loopback, over plain HTTP, with a SECRET_KEY generated into var/. Naming the
# hosts it serves makes it a production install: SECRET_KEY required, secure cookies, HTTPS,
# and static files compressed, hashed and cached for a year.
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS")
LOCAL = not ALLOWED_HOSTS
if LOCAL:
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (LOCAL or DEBUG):
        raise RuntimeError("SECRET_KEY must be set when the studio serves ALLOWED_HOSTS.")
    SECRET_KEY = _development_secret_key()
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "ninja",
    "axes",
    "accounts",
    "engine",
    "copilots",
]

# An API request with an X-PyCaret-Key header and no session cookie skips the session, CSRF,
# authentication and messages middleware (pycaret_studio/key_requests.py, used by wsgi.py).
MIDDLEWARE = [
    "pycaret_studio.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After both: it reads request.htmx and renders pending messages before they are stored.
    "pycaret_studio.middleware.HtmxMessagesMiddleware",
    "accounts.middleware.CurrentWorkspaceMiddleware",
    # Last, so it sees the login view's answer and turns a locked-out attempt into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pycaret_studio.urls"
WSGI_APPLICATION = "pycaret_studio.wsgi.application"

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
                "accounts.context_processors.workspaces",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'studio.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins: SQLite ignores select_for_update, and a
    # deferred transaction that reads and then writes fails at once ("database is locked")
    # when another one wrote in between, instead of waiting for the timeout.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so a test's real Celery worker process can open the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

AUTH_USER_MODEL = "accounts.User"
# axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# In production `collectstatic` writes hashed, compressed copies and whitenoise serves them with
# a year's max-age (a changed file gets a new name). A local install serves static/ as it is, so
# it needs no collectstatic and picks up a new file at the next start.
PRODUCTION_STATIC = not (LOCAL or DEBUG)
# The engine's files (datasets, pipelines, plots, batch files): local files under MEDIA_ROOT,
# or an S3-compatible store with STUDIO_STORAGE_URL=s3://bucket/prefix (pycaret_studio/storage_url).
STORAGES = {
    "default": storage_from_url(os.environ.get("STUDIO_STORAGE_URL"), os.environ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION_STATIC
if not PRODUCTION_STATIC:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# Redis, when configured, is both the Celery broker and the cache. Without it the studio runs on
# an embedded default: Celery's filesystem transport and a local-memory cache.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_QUEUE_DIR = Path(os.environ.get("STUDIO_QUEUE_DIR", VAR_DIR / "queue"))
STUDIO_RUN_TIME_LIMIT = envint("STUDIO_RUN_TIME_LIMIT", 3600)
CELERY_TASK_TIME_LIMIT = STUDIO_RUN_TIME_LIMIT + 60
CELERY_TASK_SOFT_TIME_LIMIT = STUDIO_RUN_TIME_LIMIT
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Above the hard limit, so a long job is never redelivered while it still runs.
        "visibility_timeout": CELERY_TASK_TIME_LIMIT + 600,
        # Without it a connect to an unreachable host blocks for the OS default (minutes).
        "socket_connect_timeout": 2,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "studio",
        }
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "out"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "out"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
        # The transport polls its folder; the default 1 s adds ~0.5 s to every job's pickup.
        "polling_interval": 0.1,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The predict path's lookups (an API key's owner and scopes, the owner's role in a workspace, a
# deployment by slug), kept in each process's memory for STUDIO_SERVING_CACHE_S seconds. The
# process that revokes a key, changes a membership or changes a deployment drops its entry at
# once; other processes see the change within the TTL.
CACHES["serving"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "studio-serving",
    "OPTIONS": {"MAX_ENTRIES": 10_000},
}
STUDIO_SERVING_CACHE_S = float(os.environ.get("STUDIO_SERVING_CACHE_S") or 5)
# The predict path's log: each web process buffers its requests' log rows and input samples and
# a background thread writes them every STUDIO_PREDICTION_LOG_FLUSH_S seconds (or as soon as
# the buffer holds LOG_MAX_BUFFERED requests), in one transaction; the buffer is written on a
# clean exit (gunicorn's worker_exit hook, atexit). 0: each request's log is written as its
# response goes out. STUDIO_PREDICTION_SAMPLE_ROWS: the input rows a request keeps for drift.
STUDIO_PREDICTION_LOG_FLUSH_S = float(os.environ.get("STUDIO_PREDICTION_LOG_FLUSH_S") or 1)
STUDIO_PREDICTION_SAMPLE_ROWS = int(os.environ.get("STUDIO_PREDICTION_SAMPLE_ROWS") or 10)
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Publishing a run fails fast when the broker is down: the Run row is already written, is marked
# undispatched, and the redispatch beat task sends it once the broker is back.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 1,
}
# Beat's messages expire before the next one is due, so a busy or restarting worker does not
# work through a pile of stale copies.
CELERY_BEAT_SCHEDULE = {
    "studio-runs-reap": {
        "task": "studio.runs_reap",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "studio-runs-redispatch": {
        "task": "studio.runs_redispatch",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    # Count the prediction log into hourly summaries: the deployment pages' figures read those
    # and only the log's newest rows (engine/services/traffic_rollup.py).
    "studio-traffic-rollup": {
        "task": "studio.traffic_rollup",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Keep each deployment's input reservoir at its newest rows.
    "studio-samples-trim": {
        "task": "studio.samples_trim",
        "schedule": 600.0,
        "options": {"expires": 590},
    },
}

# Runs: a running job heartbeats every STUDIO_HEARTBEAT_S; the reaper fails a run whose
# heartbeat is older than STUDIO_REAPER_STALE_S ("worker lost").
STUDIO_HEARTBEAT_S = envint("STUDIO_HEARTBEAT_S", 10)
STUDIO_REAPER_STALE_S = envint("STUDIO_REAPER_STALE_S", 90)

# Studio limits.
STUDIO_MAX_UPLOAD_MB = envint("STUDIO_MAX_UPLOAD_MB", 200)
# What an upload may decode to, checked from a Parquet footer or CSV header before reading and
# again while the copy is written: a small compressed file can hold millions of rows.
STUDIO_MAX_ROWS = envint("STUDIO_MAX_ROWS", 2_000_000)
STUDIO_MAX_COLUMNS = envint("STUDIO_MAX_COLUMNS", 2_000)
STUDIO_MAX_COLUMN_NAME = envint("STUDIO_MAX_COLUMN_NAME", 255)
STUDIO_MAX_UNCOMPRESSED_MB = envint("STUDIO_MAX_UNCOMPRESSED_MB", 1024)
STUDIO_MAX_PREDICT_ROWS = envint("STUDIO_MAX_PREDICT_ROWS", 10_000)
# Load a pipeline into the web process's cache in a background thread right after deploy.
STUDIO_SERVING_WARM_UP = envbool("STUDIO_SERVING_WARM_UP", True)
# Self-service signup: open by default on a local install or in development, closed in
# production unless asked for.
STUDIO_SIGNUP_OPEN = envbool("STUDIO_SIGNUP_OPEN", LOCAL or DEBUG)
# Per-workspace quotas (0 turns one off): queued plus running runs, the stored bytes of its
# datasets, and copilot calls a day (UTC).
STUDIO_QUOTA_ACTIVE_RUNS = envint("STUDIO_QUOTA_ACTIVE_RUNS", 10)
STUDIO_QUOTA_STORAGE_MB = envint("STUDIO_QUOTA_STORAGE_MB", 5120)
STUDIO_QUOTA_COPILOT_CALLS_PER_DAY = envint("STUDIO_QUOTA_COPILOT_CALLS_PER_DAY", 200)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Copilots (the LLM is optional: with no model the studio answers offline).
COPILOT_MODEL = os.environ.get("COPILOT_MODEL", "")
COPILOT_API_BASE = os.environ.get("COPILOT_API_BASE", "")
COPILOT_FALLBACK_MODELS = envlist("COPILOT_FALLBACK_MODELS")
COPILOT_TIMEOUT_S = envint("COPILOT_TIMEOUT_S", 30)
COPILOT_MAX_TOKENS = envint("COPILOT_MAX_TOKENS", 1200)
COPILOT_THROTTLE_PER_MINUTE = envint("COPILOT_THROTTLE_PER_MINUTE", 20)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# Scripts, styles and everything else come from the studio itself: no inline script, no style
# attribute, no eval (templates keep their behaviour in static/js, and base.html tells htmx not to
# inject its indicator <style>). Swagger UI's stylesheet draws its icons as data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# How many reverse proxies in front of the studio append to X-Forwarded-For. 0: the header is
# ignored and the socket's address is the client's (accounts/client_ip.py).
STUDIO_TRUSTED_PROXIES = envint("STUDIO_TRUSTED_PROXIES", 0)

# Login throttling (django-axes): after STUDIO_LOGIN_FAILURE_LIMIT failed logins for one username
# from one client IP, that pair is locked out for STUDIO_LOGIN_LOCKOUT_MINUTES; a successful login
# resets the count. Keyed on the pair, so nobody can lock a user out from elsewhere.
AXES_FAILURE_LIMIT = envint("STUDIO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("STUDIO_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Successful logins are already in the session table; keep axes to the failures.
AXES_DISABLE_ACCESS_LOG = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the body's hx-headers, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not (LOCAL or DEBUG):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
