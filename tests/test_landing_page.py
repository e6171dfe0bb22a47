"""GET /: a small page that links the API docs, the demo (when on) and the admin."""

import re

import pytest

from articles.demo import seed_demo_company

pytestmark = pytest.mark.django_db


def links_on_the_landing_page(client) -> list[str]:
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return re.findall(r'href="([^"]+)"', response.content.decode())


def test_the_landing_page_links_the_docs_the_demo_and_the_admin(client, settings):
    settings.DEMO_PAGES_ENABLED = True
    seed_demo_company(base_url="http://testserver")

    links = links_on_the_landing_page(client)

    assert {"/docs/", "/openapi.json", "/demo/", "/admin/"} <= set(links)
    assert all(client.get(link).status_code in (200, 302) for link in links)


def test_without_the_demo_pages_the_landing_page_does_not_link_them(client, settings):
    settings.DEMO_PAGES_ENABLED = False

    assert "/demo/" not in links_on_the_landing_page(client)


def test_the_landing_page_only_answers_reads(client):
    assert client.post("/").status_code == 405
