"""KeyEntities's body is written once per catalogue version and sent again while the catalogue is
unchanged, on both surfaces; a change gives a new body at once; a caller who asks for the call's
warnings gets an envelope of its own call."""

import json
from decimal import Decimal

import pytest

from appointments import catalogue
from appointments.models import ResourceActivity
from demo.factories import (
    ActivityFactory,
    CenterFactory,
    LocationFactory,
    ResourceActivityFactory,
    ResourceFactory,
)
from webservices.registry import forget_rendered

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cold():
    catalogue.forget()
    forget_rendered()
    yield
    catalogue.forget()
    forget_rendered()


def hospital():
    center = CenterFactory(lid="MAD", time_zone="Europe/Madrid")
    resource = ResourceFactory(lid="D1", location=LocationFactory(lid="MAD-1", center=center))
    ResourceActivityFactory(resource=resource, activity=ActivityFactory(lid="ACT1", price=Decimal("50.00")))


def key_entities(client, creds, **headers):
    response = client.get("/api/keyentities", HTTP_AUTHORIZATION=f"Bearer {creds.secret}", **headers)
    assert response.status_code == 200
    return response.content


def test_the_body_is_sent_again_until_the_catalogue_changes(client, creds):
    hospital()
    first = key_entities(client, creds)
    assert key_entities(client, creds) is first  # the very bytes kept
    ResourceActivity.objects.update(price=Decimal("70.00"))
    changed = key_entities(client, creds)
    assert json.loads(changed)["return"][0]["ACTIVITY_PRICE"] == "70.00"
    assert json.loads(first)["return"][0]["ACTIVITY_PRICE"] == "50.00"


def test_a_caller_asking_for_warnings_gets_its_own_envelope(client, creds):
    hospital()
    key_entities(client, creds)
    body = json.loads(key_entities(client, creds, HTTP_X_REQUEST_WARNINGS="1"))
    assert "warnings" in body and body["return"][0]["ACTIVITY_LID"] == "ACT1"


ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="http://tuotempo.his/ws">'
    "<soapenv:Body><ws:KeyEntities/></soapenv:Body></soapenv:Envelope>"
)


def soap_key_entities(client, creds):
    response = client.post("/soap/", ENVELOPE, content_type="text/xml; charset=utf-8",
                           HTTP_SOAPACTION='"KeyEntities"', HTTP_AUTHORIZATION=f"Bearer {creds.secret}")  # fmt: skip
    assert response.status_code == 200, response.content
    return response.content


def test_soap_sends_its_kept_body_too(client, creds):
    hospital()
    first = soap_key_entities(client, creds)
    assert b"<tns:ACTIVITY_PRICE>50.00</tns:ACTIVITY_PRICE>" in first
    assert soap_key_entities(client, creds) is first
    ResourceActivity.objects.update(price=Decimal("70.00"))
    assert b"<tns:ACTIVITY_PRICE>70.00</tns:ACTIVITY_PRICE>" in soap_key_entities(client, creds)
