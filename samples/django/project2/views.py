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


def numbers(request):
    """numpy, served from the process group "numeric" (samples/wsgi.toml): that
    process has its own main interpreter, so numpy loads there even when a
    subinterpreter of a worker has already imported it."""
    try:
        import numpy
    except ImportError:
        return JsonResponse({"error": "numpy is not installed (apt-get install python3-numpy)"}, status=501)
    try:
        n = max(1, min(int(request.GET.get("n", "10")), 1_000_000))
    except ValueError:
        return JsonResponse({"error": "n must be an integer"}, status=400)
    values = numpy.arange(n, dtype=numpy.float64)
    return JsonResponse({
        "n": n,
        "sum": float(values.sum()),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "numpy": numpy.__version__,
        "process_group": request.META.get("mod_wsgi.process_group"),
        "pid": os.getpid(),
        "interpreter": request.META.get("subhttpd.interpreter"),
    })
