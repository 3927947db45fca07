from django.conf import settings

from his.views import not_found

DEBUG_PAGE_MARK = b"DEBUG = True"


class PlainNotFoundMiddleware:
    """In debug mode Django answers an unknown path with a page listing every URL of the server: a
    stranger (or an integrator trying paths) gets the plain 404 page instead, as in production."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and DEBUG_PAGE_MARK in response.content
        ):
            return not_found(request)
        return response
