from collections.abc import Collection

from centers.models import Center


def centers_in_scope(*, centers: Collection[Center] | None) -> list[Center]:
    """The web-enabled centers a client may see (all of them when its scope is every center)."""
    queryset = Center.objects.filter(web_enabled=True).order_by("lid")
    if centers is not None:
        queryset = queryset.filter(pk__in=[c.pk for c in centers])
    return list(queryset)
