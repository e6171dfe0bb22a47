"""API keys created from the admin: shown once, stored hashed, usable at once."""

import re

import pytest

from checkouts.models import CompanyApiKey

pytestmark = pytest.mark.django_db


def test_a_key_created_in_the_admin_is_shown_once_and_stored_hashed(admin_client, company):
    response = admin_client.post(
        "/admin/checkouts/companyapikey/add/",
        {"name": "reception", "company": str(company.id), "revoked": ""},
        follow=True,
    )

    assert response.status_code == 200
    messages = " ".join(str(m) for m in response.context["messages"])
    key = re.search(r"The API key for reception is: (\S+)\. ", messages).group(1)
    stored = CompanyApiKey.objects.get()
    assert CompanyApiKey.objects.get_from_key(key) == stored
    assert stored.company == company
    assert key not in str(CompanyApiKey.objects.values().get())
    page = admin_client.get(f"/admin/checkouts/companyapikey/{stored.pk}/change/")
    assert key not in page.content.decode()
