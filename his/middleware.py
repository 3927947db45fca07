from django.conf import settings
from django.http import HttpResponse

from his.rest import too_large_response


class BodySizeLimitMiddleware:
    """Answers 413 to a webservice request whose declared body is over HIS_MAX_BODY_BYTES, before
    reading any of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(("/api/", "/soap/")):
            limit = settings.HIS_MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return HttpResponse("Content-Length is not a number.", status=400, content_type="text/plain")
            if length > limit:
                if request.path.startswith("/api/"):
                    return too_large_response(limit)
                return HttpResponse(f"The request body is over {limit} bytes.", status=413, content_type="text/plain")
        return self.get_response(request)
