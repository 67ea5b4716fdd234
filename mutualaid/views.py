from django.db import connection
from django.http import HttpResponse, JsonResponse


def healthz(request):
    """Liveness for docker-compose and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def hello(request):
    """A bare view: the load test's baseline for what the stack itself costs."""
    return HttpResponse("hello")
