"""project1: a minimal Django project with the admin (samples/wsgi.d/django.toml)."""

import os
import tempfile

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SITE_LABEL = "project one"

SECRET_KEY = "sample-only-not-secret-project1"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "project1.urls"
WSGI_APPLICATION = "project1.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

# A writable place outside the source tree; `python3 manage.py migrate` creates
# the tables (the login page itself needs none).
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("PROJECT1_DB", os.path.join(tempfile.gettempdir(), "subhttpd-project1.sqlite3")),
}}

USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# The server serves /static itself: STATIC_ROOT through the site file's
# [[site.alias]] (run collectstatic to fill it).
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "..", "collected-static")
