"""project2: a second Django project with other settings, run beside project1
in the same process (its own interpreter): no admin, no database."""

SITE_LABEL = "project two"
SECRET_KEY = "sample-only-not-secret-project2"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "project2.urls"
DATABASES = {}
USE_TZ = True
