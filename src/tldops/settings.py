"""Django settings for tldops, all taken from :mod:`tldops.config` (environment and optional file).

Defaults give the embedded system: SQLite in WAL mode under ``./var``, mail written to a sink folder,
web on 127.0.0.1:8000. ``TLDOPS_DATABASE_URL`` selects PostgreSQL; ``TLDOPS_SMARTHOST`` an MTA.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from tldops.config import DATA_DIR, SOURCE, secret_key

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = secret_key(SOURCE, DATA_DIR)
DEBUG = SOURCE.bool("DEBUG", False)
ALLOWED_HOSTS = SOURCE.list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
BASE_URL = (SOURCE.get("BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
CSRF_TRUSTED_ORIGINS = [BASE_URL]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "axes",
    "ninja",  # serves the API docs (Swagger UI) from our own static files, no CDN
    "tldops.mail",
    "tldops.catalog",
    "tldops.directory",
    "tldops.lists",
    "tldops.repository",
    "tldops.alerts",
    "tldops.monitor",
    "tldops.playbooks",
    "tldops.web",
    "tldops.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tldops.web.headers.SecurityHeadersMiddleware",  # CSP, HSTS, no-store (not on static files)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tldops.web.limits.QueryStringLimitMiddleware",  # 414 on a query string beyond its bound
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tldops.urls"
WSGI_APPLICATION = "tldops.wsgi.application"
ASGI_APPLICATION = "tldops.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tldops.web.context.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        SOURCE.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tldops.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web, mail and worker processes read while one writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write inside a transaction. Connections are
    # kept between requests: opening one (schema, WAL index, pragmas) cost 3 ms of CPU a request,
    # a third of a cached page (docs/benchmarks.md).
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tldops",
    }
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:coverage"
# Database sessions; the per-request read in plain SQL (tldops/web/sessions.py).
SESSION_ENGINE = "tldops.web.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Strict-Transport-Security, sent when BASE_URL is https (tldops.web.headers); 0: not sent.
SECURE_HSTS_SECONDS = SOURCE.int("HSTS_SECONDS", 31536000 if SESSION_COOKIE_SECURE else 0)

# Login rate limiting (tldops/web/signin.py). django-axes locks an address (an IPv6 /64) after
# this many failures, whatever the account; an account with as many failures from any addresses
# makes each further try wait 2, 4, 8 … seconds, at most LOGIN_MAX_DELAY, unless its TOTP code
# comes with the password. Nothing locks the owner out.
AXES_FAILURE_LIMIT = SOURCE.int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = SOURCE.int("LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "tldops.web.signin.lockout_address"
AXES_RESET_ON_SUCCESS = False  # signin.forgive() forgets the person's own failures only
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_ENABLED = SOURCE.bool("LOGIN_RATE_LIMIT", True)
LOGIN_MAX_DELAY = SOURCE.int("LOGIN_MAX_DELAY_SECONDS", 60)
# Reverse proxies (addresses or networks) whose X-Forwarded-For gives the client's address; any
# other peer is the client itself (signin.client_address). Empty: X-Forwarded-For is ignored.
TRUSTED_PROXIES = SOURCE.list("TRUSTED_PROXIES", "")

LANGUAGE_CODE = "en"
#: The community's six languages (SPEC); Chinese is Django's "zh-hans" (simplified script).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("zh-hans", "中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(
    parents=True, exist_ok=True
)  # whitenoise serves from the app finders; it wants the root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Mail. Without a smarthost, outgoing mail is written to a sink folder, one .eml file a message.
SMARTHOST = SOURCE.get("SMARTHOST", "")  # host[:port]
MAIL_SINK_DIR = Path(SOURCE.get("MAIL_SINK", str(DATA_DIR / "mail-sink")) or "")
MAIL_DOMAIN = SOURCE.get("MAIL_DOMAIN", "tldops.localhost")
DEFAULT_FROM_EMAIL = SOURCE.get("FROM_EMAIL", f"TLD-OPS Secretariat <secretariat@{MAIL_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
AUTHORISE_ADDRESS = SOURCE.get("AUTHORISE_ADDRESS", f"authorise@{MAIL_DOMAIN}")
SMTP_LISTEN = SOURCE.get("SMTP_LISTEN", "127.0.0.1:8025")
LMTP_LISTEN = SOURCE.get("LMTP_LISTEN", "127.0.0.1:8024")
WEB_LISTEN = SOURCE.get("WEB_LISTEN", "127.0.0.1:8000")
# Web server processes (Django answers one request at a time in each); 0: one per CPU.
WEB_WORKERS = SOURCE.int("WEB_WORKERS", 0)
# Processes delivering the outbox (the worker and delivery-only helpers); 0: one per CPU.
WORKER_PROCESSES = SOURCE.int("WORKER_PROCESSES", 0)
# Largest message the SMTP/LMTP intake accepts (bytes); bigger ones are refused with 552.
MAX_MESSAGE_SIZE = SOURCE.int("MAX_MESSAGE_SIZE", 25 * 1024 * 1024)
# Lists of indicators given with an alert (alerts.indicators), uploaded or attached: read line by
# line and refused whole, nothing kept, once past ALERT_UPLOAD_MAX_BYTES bytes or
# ALERT_MAX_INDICATORS distinct indicators (an attachment is also bound by MAX_MESSAGE_SIZE).
ALERT_UPLOAD_MAX_BYTES = SOURCE.int("ALERT_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
ALERT_MAX_INDICATORS = SOURCE.int("ALERT_MAX_INDICATORS", 1_000_000)
# Personal alert digests (alerts.notify): sent once a day, at or after this hour (UTC, 0-23).
ALERT_DIGEST_HOUR = SOURCE.int("ALERT_DIGEST_HOUR", 7)

# The monitor (monitor app, docs/monitor.md). A sweep every MONITOR_INTERVAL seconds from the hub;
# a problem is confirmed when MONITOR_AGREEMENT vantage points see it within MONITOR_WINDOW seconds.
MONITOR_INTERVAL = SOURCE.int("MONITOR_INTERVAL", 300)
MONITOR_AGREEMENT = SOURCE.int("MONITOR_AGREEMENT", 2)
MONITOR_WINDOW = SOURCE.int("MONITOR_WINDOW", 900)
MONITOR_TIMEOUT = SOURCE.float("MONITOR_TIMEOUT", 2.0)
MONITOR_TRIES = SOURCE.int("MONITOR_TRIES", 2)
MONITOR_PORT = SOURCE.int("MONITOR_PORT", 53)  # tests and benchmarks serve their world elsewhere
# Files in the root hints and trust-anchor formats (docs/monitor.md); "": the ones shipped.
MONITOR_ROOT_HINTS = SOURCE.get("MONITOR_ROOT_HINTS", "")
MONITOR_TRUST_ANCHOR = SOURCE.get("MONITOR_TRUST_ANCHOR", "")
MONITOR_IPV4_ONLY = SOURCE.bool("MONITOR_IPV4_ONLY", False)
# Raw observations are kept this many days, hourly rollups MONITOR_HOURLY_DAYS, daily ones for ever.
MONITOR_RAW_DAYS = SOURCE.int("MONITOR_RAW_DAYS", 2)
MONITOR_HOURLY_DAYS = SOURCE.int("MONITOR_HOURLY_DAYS", 14)
# A confirmed incident's draft alert is raised at once (True) or after a member confirms it.
MONITOR_AUTO_ALERT = SOURCE.bool("MONITOR_AUTO_ALERT", False)
# Auto-raised alerts need an author: the address of a member or staff account (docs/monitor.md);
# unset, auto-raising is skipped (logged) and the draft waits for a member to raise it.
MONITOR_ALERT_AUTHOR = SOURCE.get("MONITOR_ALERT_AUTHOR", "")
# The draft alert's TLP label: CLEAR, GREEN, AMBER or AMBER+STRICT (RED is refused when an alert is
# raised: a RED alert needs named readers, which a monitor draft has not).
MONITOR_ALERT_TLP = SOURCE.get("MONITOR_ALERT_TLP", "AMBER")
# An incident no MONITOR_AGREEMENT vantage points confirm for this many hours is closed as stale.
MONITOR_STALE_HOURS = SOURCE.int("MONITOR_STALE_HOURS", 24)
# Findings (and their sweeps) are kept this many days; observations are rolled up before.
MONITOR_FINDINGS_DAYS = SOURCE.int("MONITOR_FINDINGS_DAYS", 90)
# `tldops run` starts the scheduled monitor (tldops monitor run); tests and benchmarks turn it off.
MONITOR_ENABLED = SOURCE.bool("MONITOR_ENABLED", True)

# The mailing list (lists app). Its members are exactly the directory's active members.
LIST_NAME = SOURCE.get("LIST_NAME", "TLD-OPS")
LIST_ADDRESS = SOURCE.get("LIST_ADDRESS", f"tld-ops@{MAIL_DOMAIN}")
LIST_ID = SOURCE.get("LIST_ID", f"tld-ops.{MAIL_DOMAIN}")  # RFC 2919
SUBJECT_TAG = SOURCE.get("SUBJECT_TAG", "[TLD-OPS]")
REPLY_TO_POLICY = SOURCE.get("REPLY_TO_POLICY", "none")  # none | list | author
LIST_MAX_SIZE = SOURCE.int("LIST_MAX_SIZE", 5 * 1024 * 1024)  # bytes; bigger posts are held
# Moderation notices carry the held message only up to this size (bytes); above, a link.
LIST_HOLD_ATTACH_MAX = SOURCE.int("LIST_HOLD_ATTACH_MAX", 256 * 1024)
# Posts one sender may have waiting for moderation; a further one is refused (0: no limit).
LIST_MAX_HELD_PER_SENDER = SOURCE.int("LIST_MAX_HELD_PER_SENDER", 10)
LIST_ALLOWED_TYPES = SOURCE.list(
    "LIST_ALLOWED_TYPES",
    "text/plain,text/html,text/csv,multipart/*,message/rfc822,application/pdf,image/png,"
    "image/jpeg,application/pgp-signature,application/pgp-keys,application/pgp-encrypted,"
    "application/pkcs7-signature",
)
LIST_FOOTER = SOURCE.get(
    "LIST_FOOTER",
    "TLD-OPS — the incident-response community of the ccTLD operators. Members only; do not "
    "forward outside the community without the author's consent.",
)
# Daily digests (lists.digest): sent once a day, at or after DIGEST_TIME UTC (HH:MM), to the members
# who chose them. A "no mail" choice ends at most NOMAIL_MAX_DAYS days ahead (directory.delivery).
DIGEST_TIME = SOURCE.get("DIGEST_TIME", "06:00")
NOMAIL_MAX_DAYS = SOURCE.int("NOMAIL_MAX_DAYS", 90)
DMARC_MITIGATION = SOURCE.bool("DMARC_MITIGATION", True)
DNS_RESOLVER = SOURCE.get("DNS_RESOLVER", "")  # host[:port]; empty: the system's resolvers
DKIM_SELECTOR = SOURCE.get("DKIM_SELECTOR", "")
DKIM_KEY_FILE = SOURCE.get("DKIM_KEY_FILE", "")  # PEM private key; DKIM signing when both are set
DKIM_DOMAIN = SOURCE.get(
    "DKIM_DOMAIN", ""
)  # d= of the signature; empty: the domain of LIST_ADDRESS
# authserv-id of our own MTA's Authentication-Results headers (e.g. Postfix+OpenDMARC's hostname);
# the spoofing rule trusts only those. Empty: no Authentication-Results header is trusted.
LIST_TRUSTED_AUTHSERV_ID = SOURCE.get("LIST_TRUSTED_AUTHSERV_ID", "")
# Without a trusted MTA, tldops checks senders itself (SPF for the connecting address, DKIM, DMARC
# alignment; mail.senderauth) and records the outcome under AUTHSERV_ID. Switching it off means
# the From header is believed: `tldops run` then warns that anyone can post as any member.
VERIFY_SENDERS = SOURCE.bool("VERIFY_SENDERS", True)
AUTHSERV_ID = SOURCE.get("AUTHSERV_ID", "") or MAIL_DOMAIN
DELIVERY_CONCURRENCY = SOURCE.int("DELIVERY_CONCURRENCY", 8)
# Outbox delivery (mail.outbox): the n-th retry of a 4xx/connection failure waits
# DELIVERY_RETRY_BASE * 2**n seconds; a worker holds the deliveries it claimed for DELIVERY_LEASE
# seconds, after which a crashed worker's claims are delivered by the next round.
DELIVERY_RETRY_BASE = float(SOURCE.get("DELIVERY_RETRY_BASE", "60") or 60)
DELIVERY_LEASE = float(SOURCE.get("DELIVERY_LEASE", "300") or 300)
BOUNCE_THRESHOLD = float(SOURCE.get("BOUNCE_THRESHOLD", "5.0") or 5.0)
BOUNCE_DECAY_DAYS = SOURCE.int("BOUNCE_DECAY_DAYS", 7)  # the score halves in this many days
# A VERP bounce address (mail.verp) carries the day it was made; a bounce to one older than this
# is not counted, so an address seen once cannot be used to forge bounces for ever.
VERP_MAX_AGE_DAYS = SOURCE.int("VERP_MAX_AGE_DAYS", 30)

# Community rules.
MAX_CONTACTS_PER_CCTLD = SOURCE.int("MAX_CONTACTS_PER_CCTLD", 3)
MAX_PHONES_PER_PERSON = SOURCE.int("MAX_PHONES_PER_PERSON", 5)
INVITATION_TTL_DAYS = SOURCE.int("INVITATION_TTL_DAYS", 30)
CONFIRMATION_TTL_DAYS = SOURCE.int("CONFIRMATION_TTL_DAYS", 14)
# Hours a link confirming a person's new email address stays valid (directory.email_change).
EMAIL_CHANGE_TTL_HOURS = SOURCE.int("EMAIL_CHANGE_TTL_HOURS", 48)
INVITATION_REMINDER_DAYS = [int(d) for d in SOURCE.list("INVITATION_REMINDER_DAYS", "7,14,21")]
REQUIRE_2FA_FOR_STAFF = SOURCE.bool("REQUIRE_2FA_FOR_STAFF", True)

# Online catalog sync (IANA). Overridable so tests can point at a local HTTP server.
IANA_RZDB_URL = SOURCE.get("IANA_RZDB_URL", "https://www.iana.org/domains/root/db")
IANA_ROOT_ZONE_URL = SOURCE.get("IANA_ROOT_ZONE_URL", "https://www.internic.net/domain/root.zone")
IANA_TLD_LIST_URL = SOURCE.get(
    "IANA_TLD_LIST_URL", "https://data.iana.org/TLD/tlds-alpha-by-domain.txt"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": SOURCE.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# The monthly contact repository (repository app). Sent on REPOSITORY_DAY of each month at
# REPOSITORY_TIME UTC: "first-working-day" (Monday to Friday; the community spans every country,
# so no holiday calendar applies) or a day number 1–28.
REPOSITORY_DAY = SOURCE.get("REPOSITORY_DAY", "first-working-day")
REPOSITORY_TIME = SOURCE.get("REPOSITORY_TIME", "06:00")
# When periodic sends (the monthly edition, the reachability rounds) may begin. A new install
# sends nothing by itself until its first contact has confirmed; the first scheduled edition and
# round are the first whose send time comes after that confirmation (never a minute after it).
# SCHEDULE_FROM (YYYY-MM-DD, UTC) holds them back further, e.g. until onboarding is finished;
# staff can always publish an edition or start a round by hand before.
SCHEDULE_FROM = SOURCE.get("SCHEDULE_FROM", "")
# OpenPGP: the community key's fingerprint; the edition is signed (PGP/MIME) when it is set and
# present in GNUPG_HOME. Empty: editions go out unsigned.
REPOSITORY_SIGNING_KEY = SOURCE.get("REPOSITORY_SIGNING_KEY", "")
GNUPG_HOME = SOURCE.get("GNUPG_HOME", str(DATA_DIR / "gnupg"))
GNUPG_PASSPHRASE = SOURCE.get("GNUPG_PASSPHRASE", "")  # for the signing key; never logged

# Reachability checks: one challenge per active member every REACHABILITY_INTERVAL_MONTHS months
# (3: quarterly, starting on the first working day of January, April, July, October at
# REPOSITORY_TIME); a reminder after REACHABILITY_GRACE_DAYS unanswered days, then the ccTLD's
# other contacts and the secretariat are told after REACHABILITY_ESCALATE_DAYS more.
REACHABILITY_INTERVAL_MONTHS = SOURCE.int("REACHABILITY_INTERVAL_MONTHS", 3)
REACHABILITY_GRACE_DAYS = SOURCE.int("REACHABILITY_GRACE_DAYS", 14)
REACHABILITY_ESCALATE_DAYS = SOURCE.int("REACHABILITY_ESCALATE_DAYS", 7)
# A check can be answered (link or reply) only while its round is the latest one, and at most
# REACHABILITY_ANSWER_DAYS after it was sent (default: the interval, 31 days a month), so a saved
# link stops working even if no later round starts.
REACHABILITY_ANSWER_DAYS = SOURCE.int("REACHABILITY_ANSWER_DAYS", 31 * REACHABILITY_INTERVAL_MONTHS)
REACHABILITY_ADDRESS = SOURCE.get("REACHABILITY_ADDRESS", f"reachability@{MAIL_DOMAIN}")
