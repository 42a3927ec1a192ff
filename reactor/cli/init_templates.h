#pragma once
// `subhttpd init --flask` / `--django`: the project templates (site file, app
// sources) that init.cpp writes. "@NAME@", "@HOSTPORT@" and "@SECRET@" are
// filled in by init.cpp. Constants only; any thread.
#include <string_view>

namespace subhttpd::reactor::templates {

inline constexpr std::string_view flask_site = R"tpl(# The Flask app @NAME@, made by `subhttpd init --flask`.
# Serve it:  subhttpd run -c server.toml --dev
# In dev mode an edit to any module of the app (or a template) is served on the
# next request by a fresh interpreter (autoreload = "app").
[[site]]
server_name = "@NAME@"
aliases = ["127.0.0.1"]
default = true
# The app's folder: its modules import each other from here.
document_root = "../app"
python_path = ["../app"]

# Every URL is the Flask app; create_app() runs once per interpreter.
[[site.location]]
path = "/"
wsgi = "app:create_app()"
# In dev mode a view error shows subhttpd's debug page; for Werkzeug's
# interactive debugger instead:
# options = { wsgi_debugger = "werkzeug" }

# /static is served by subhttpd itself, straight from app/static.
[[site.alias]]
url = "/static"
path = "../app/static"
)tpl";

inline constexpr std::string_view flask_app = R"tpl("""The Flask app. The site file names the factory: wsgi = "app:create_app()"."""
import os

from flask import Flask

import views


def create_app():
    here = os.path.dirname(os.path.abspath(__file__))
    app = Flask(__name__, root_path=here, static_folder=None)
    app.register_blueprint(views.bp)
    return app
)tpl";

inline constexpr std::string_view flask_views = R"tpl("""The views. Edit greetings.py (two imports away from app.py) and reload the page."""
from flask import Blueprint, render_template

import greetings

bp = Blueprint("views", __name__)


@bp.route("/")
def index():
    return render_template("index.html", greeting=greetings.greeting())
)tpl";

inline constexpr std::string_view flask_greetings = R"tpl(def greeting():
    return "Hello from Flask on subhttpd"
)tpl";

// The page of both app kinds: @TEMPLATES@ is the folder of templates/, @CODE@
// the package of views.py and greetings.py.
inline constexpr std::string_view app_index = R"tpl(<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{{ greeting }}</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body>
<h1>{{ greeting }}</h1>
<p>This page is <code>@TEMPLATES@/templates/index.html</code>, rendered by <code>@CODE@/views.py</code>.
Edit <code>@CODE@/greetings.py</code> and reload.</p>
</body>
</html>
)tpl";

inline constexpr std::string_view style_css = R"tpl(body { font: 16px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 40em; }
h1 { color: #2a6f4e; }
)tpl";

inline constexpr std::string_view django_site = R"tpl(# The Django project @NAME@, made by `subhttpd init --django`.
# Serve it:  subhttpd run -c server.toml --dev
# In dev mode an edit to any module of the project (or a template) is served on
# the next request by a fresh interpreter, and DEBUG's technical pages show.
[[site]]
server_name = "@NAME@"
aliases = ["127.0.0.1"]
default = true
document_root = "../project"
python_path = ["../project"]
env = { DJANGO_SETTINGS_MODULE = "mysite.settings" }

[[site.location]]
path = "/"
wsgi = "mysite.wsgi:application"

# STATIC_ROOT, served by subhttpd itself. Refresh it with
#   python3 project/manage.py collectstatic
[[site.alias]]
url = "/static"
path = "../project/collected-static"
)tpl";

inline constexpr std::string_view django_manage = R"tpl(#!/usr/bin/env python3
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
)tpl";

inline constexpr std::string_view django_settings = R"tpl("""Settings of the project. `subhttpd run --dev` turns DEBUG on; keep it off here."""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = "@SECRET@"
DEBUG = False
ALLOWED_HOSTS = ["@NAME@", "localhost", "127.0.0.1"]

INSTALLED_APPS = ["django.contrib.staticfiles"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [os.path.join(BASE_DIR, "templates")],
    "APP_DIRS": True,
}]

DATABASES = {}
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [os.path.join(BASE_DIR, "static")]
STATIC_ROOT = os.path.join(BASE_DIR, "collected-static")  # the site file's [[site.alias]]
)tpl";

inline constexpr std::string_view django_urls = R"tpl(from django.urls import path

from mysite import views

urlpatterns = [path("", views.index)]
)tpl";

inline constexpr std::string_view django_views = R"tpl("""Edit greetings.py (two imports away from wsgi.py) and reload the page."""
from django.shortcuts import render

from mysite import greetings


def index(request):
    return render(request, "index.html", {"greeting": greetings.greeting()})
)tpl";

inline constexpr std::string_view django_greetings = R"tpl(def greeting():
    return "Hello from Django on subhttpd"
)tpl";

inline constexpr std::string_view django_wsgi = R"tpl(import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
application = get_wsgi_application()
)tpl";

}  // namespace subhttpd::reactor::templates
