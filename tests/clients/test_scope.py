"""Who may see what (contract section 4), decided once in the domain's Scope."""

import pytest

from clients.models import IntegrationClient
from clients.scope import HOSPITAL, Scope, client_centers, scope_of
from clients.services import create_integration_client
from core.errors import DomainError
from demo.factories import CenterFactory


@pytest.fixture
def centers(db):
    return {lid: CenterFactory(lid=lid) for lid in ("MAD", "LPA", "BCN")}


def test_a_client_without_a_list_holds_the_grant_of_every_center(centers):
    client, _ = create_integration_client(name="all")
    scope = scope_of(client)
    assert client_centers(client) is None
    assert (scope.centers, scope.every_center, scope.pattern, scope.client) == (None, True, "lid", client)


def test_a_client_with_a_list_sees_those_centers_only(centers):
    client, _ = create_integration_client(name="two", center_lids=["MAD", "LPA"], pattern="tid")
    scope = scope_of(client)
    assert sorted(c.lid for c in scope.centers) == ["LPA", "MAD"]
    assert (scope.every_center, scope.pattern, scope.client) == (False, "tid", client)


def test_an_emptied_list_sees_nothing_and_never_everything(centers):
    client, _ = create_integration_client(name="emptied", center_lids=["MAD"])
    client.centers.clear()
    scope = scope_of(IntegrationClient.objects.get(pk=client.pk))
    assert scope.centers == () and not scope.every_center


def test_a_named_center_of_the_client_narrows_the_call_to_it(centers):
    client, _ = create_integration_client(name="two", center_lids=["MAD", "LPA"])
    assert scope_of(client, center_lid="LPA").centers == (centers["LPA"],)
    granted, _ = create_integration_client(name="all")
    assert scope_of(granted, center_lid="BCN").centers == (centers["BCN"],)


def test_a_center_outside_the_list_is_forbidden_even_when_it_exists(centers):
    client, _ = create_integration_client(name="two", center_lids=["MAD", "LPA"])
    for lid in ("BCN", "NOWHERE"):
        with pytest.raises(DomainError) as error:
            scope_of(client, center_lid=lid)
        assert (error.value.code, str(error.value)) == (
            "FORBIDDEN",
            f"Center {lid!r} is not one of the centers this client may use.",
        )


def test_an_unknown_center_under_the_grant_is_not_found(centers):
    client, _ = create_integration_client(name="all")
    with pytest.raises(DomainError) as error:
        scope_of(client, center_lid="NOWHERE")
    assert (error.value.code, str(error.value)) == ("NOT_FOUND", "Center 'NOWHERE' does not exist.")


def test_only_integration_clients_are_held_to_what_is_offered_online(centers):
    client, _ = create_integration_client(name="all")
    assert scope_of(client).online is True
    assert HOSPITAL.online is False and HOSPITAL.every_center and HOSPITAL.pattern == "lid"
    assert Scope(centers=()).online is False
