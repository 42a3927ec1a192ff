import os

from django.conf import settings
from django.http import JsonResponse


def whoami(request):
    return JsonResponse({
        "settings_module": settings.SETTINGS_MODULE,
        "site_label": settings.SITE_LABEL,
        "environ": os.environ.get("DJANGO_SETTINGS_MODULE"),
        "interpreter": request.META.get("subhttpd.interpreter"),
        "admin": "django.contrib.admin" in settings.INSTALLED_APPS,
    })
