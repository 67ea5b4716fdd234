"""/healthz answered before the host check and the HTTPS redirect.

docker-compose and load balancers probe the container over plain HTTP at 127.0.0.1, which is
neither an allowed host nor HTTPS under the production settings (400 or 301 there); the probe
only asks whether this process and its database answer, so it is answered first.
"""

from mutualaid import views

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH:
            return views.healthz(request)
        return self.get_response(request)
