"""python manage.py create_application NAME [--json]"""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from enhancer.models import ApiCredential, Application


def test_json_prints_credentials_that_work(client, db):
    out = StringIO()
    call_command("create_application", "Acme", "--json", stdout=out)
    created = json.loads(out.getvalue().strip().splitlines()[-1])

    assert set(created) >= {"applicationId", "apiKey", "apiSecret", "jwtPrivateKey"}
    response = client.post(
        "/api/v1/Authorization/GenerateJwtToken",
        {"applicationId": created["applicationId"], "jwtPrivateKey": created["jwtPrivateKey"]},
        content_type="application/json",
    )
    assert response.status_code == 200


def test_secrets_are_stored_only_hashed(db):
    out = StringIO()
    call_command("create_application", "Acme", "--json", stdout=out)
    created = json.loads(out.getvalue().strip().splitlines()[-1])

    credential = ApiCredential.objects.get(application_id=created["applicationId"])
    stored = " ".join(str(v) for v in ApiCredential.objects.values_list().get(pk=credential.pk))
    assert created["apiSecret"] not in stored
    assert created["jwtPrivateKey"] not in stored
    assert Application.objects.get(pk=created["applicationId"]).name == "Acme"
