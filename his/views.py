"""The server's own pages: where to go from `/`, and the page of a path that does not exist."""

from django.shortcuts import render


def home(request):
    """What this server offers a person who opens it in a browser: the admin, the desk, the API docs, the WSDL."""
    return render(request, "home.html")


def not_found(request, exception=None):
    """A plain page, also in debug mode: never the list of every URL of the server."""
    return render(request, "404.html", {"path": request.path}, status=404)
