"""Who is asking, as every rule of the domain needs to know it.

A caller of the domain is an integration client (a tuOtempO instance, over the webservices or Sincro)
or the hospital itself (the desk, its own scheduled exports). What it may see and change follows from
its scope, decided here once: the adapters only pass it on.
"""

from dataclasses import dataclass

from centers.models import Center
from clients.models import IntegrationClient, PatientPattern
from core.errors import FORBIDDEN, NOT_FOUND, DomainError

MSG_CENTER_FORBIDDEN = "{T.CENTER:cap} {lid!r} is not one of the centers this client may use."
MSG_CENTER_UNKNOWN = "{T.CENTER:cap} {lid!r} does not exist."


@dataclass(frozen=True)
class Scope:
    """centers: the centers the caller may see; None is the grant of every center, and an empty tuple
    sees nothing. pattern: how it names patients ("lid": the hospital's id, "tid": its own). client: the
    integration client whose own patient ids (USER_TID links) it reads and writes; None for the hospital."""

    centers: tuple[Center, ...] | None
    pattern: str = PatientPattern.LID
    client: IntegrationClient | None = None

    @property
    def every_center(self) -> bool:
        return self.centers is None

    @property
    def online(self) -> bool:
        """Whether the caller books only what the hospital offers online (the web flags of centers, doctors,
        activities and insurances): every integration client does. The hospital itself (its desk) also books
        what it does not offer online: phone-only activities, desk-only doctors."""
        return self.client is not None


HOSPITAL = Scope(centers=None)


def client_centers(client: IntegrationClient) -> tuple[Center, ...] | None:
    """The client's centers, or None when it holds the grant of every center. Without the grant an empty
    list means no center: emptying it or deleting its centers never widens a client."""
    if client.all_centers:
        return None
    return tuple(client.centers.all())


def scope_of(client: IntegrationClient, *, center_lid: str | None = None) -> Scope:
    """The scope of one call of the client: the center it names, which must be one of its own, else all
    of them."""
    centers = client_centers(client)
    if center_lid is not None:
        centers = (_named_center(centers, center_lid),)
    return Scope(centers=centers, pattern=client.patient_pattern, client=client)


def _named_center(centers: tuple[Center, ...] | None, lid: str) -> Center:
    if centers is not None:
        for center in centers:
            if center.lid == lid:
                return center
        raise DomainError(FORBIDDEN, MSG_CENTER_FORBIDDEN, lid=lid)
    center = Center.objects.filter(lid=lid).first()
    if center is None:
        raise DomainError(NOT_FOUND, MSG_CENTER_UNKNOWN, lid=lid)
    return center
