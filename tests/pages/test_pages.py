"""What a person finds opening the server in a browser: a landing page at `/`, a plain 404 (in debug mode
too), the API's slash-less paths redirected to their pages without being taken for failed logins."""

import re
from pathlib import Path

import pytest
import requests
from django.test import override_settings

from clients.models import AuditEntry


def test_the_landing_page_links_the_admin_the_desk_the_docs_and_the_wsdl(live_server):
    # Over the live server: spyne keeps the WSDL with the host of its first request.
    response = requests.get(f"{live_server.url}/", timeout=30)

    assert response.status_code == 200
    links = re.findall(r'href="([^"]+)"', response.text)
    assert {"/admin/", "/desk/", "/api/docs/", "/api/schema/", "/soap/?wsdl"} <= set(links)
    for link in {"/api/docs/", "/api/schema/", "/soap/?wsdl"}:
        assert requests.get(f"{live_server.url}{link}", timeout=30).status_code == 200, link


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_page_is_a_plain_404_without_the_list_of_urls(client, debug):
    with override_settings(DEBUG=debug):
        response = client.get("/no-such-page")

    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "/no-such-page" in page
    assert "URLconf" not in page and "admin/" not in page.replace('href="/"', "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "target"),
    [("/api", "/api/docs/"), ("/api/", "/api/docs/"), ("/api/docs", "/api/docs/"), ("/api/schema", "/api/schema/")],
)
def test_the_api_paths_a_person_types_are_redirected_and_not_counted_as_logins(client, path, target):
    for _ in range(12):  # more than the failed logins that lock a client out
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, target)

    assert not AuditEntry.objects.exists()
    assert client.get(target).status_code == 200


@pytest.mark.django_db
def test_a_successful_answer_carries_no_code_as_the_readme_says(client, django_user_model):
    from clients.services import create_integration_client

    _client, secret = create_integration_client(name="readme")
    ok = client.get("/api/getcenters", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    failed = client.get("/api/checkappointment", {"APP_LID": "nope"}, HTTP_AUTHORIZATION=f"Bearer {secret}").json()

    assert set(ok) == {"result", "return", "msg"}
    assert set(failed) == {"result", "return", "msg", "code"}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert '`{"result": "OK" | "ERROR", "return": ..., "msg": ...}`, and a failed one also carries' in readme


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "word"), [("es", "Idioma"), ("it", "Lingua"), ("en", "Language")])
def test_the_language_switch_changes_the_landing_page(client, language, word):
    response = client.post("/i18n/setlang/", {"language": language, "next": "/"}, follow=True)

    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()
    assert word in response.content.decode()
