"""/api/v1/NotificationChannel: every endpoint, every status, and isolation between applications.

One file per endpoint, as the other API tests: its five paths, their methods and
their refusals make it a little over 400 lines.
"""

from __future__ import annotations

import uuid

import pytest

from enhancer.notifications.models import NotificationChannel, WebhookDelivery

BASE = "/api/v1/NotificationChannel"
HOOK = "https://hooks.example.com/face-enhancer"

pytestmark = pytest.mark.usefixtures("fake_dns")


def _create(client, headers, **fields):
    body = {"type": "Webhook", "url": HOOK, **fields}
    return client.post(BASE, body, content_type="application/json", headers=headers)


@pytest.fixture
def alice_channel(client, alice_headers) -> dict:
    response = _create(client, alice_headers)
    assert response.status_code == 201, response.json()
    return response.json()


# --- create ----------------------------------------------------------------------


def test_create_answers_the_channel_and_its_signing_secret_once(client, alice, alice_headers):
    response = _create(
        client,
        alice_headers,
        applicationId=str(alice.application.id),
        includeImageData=True,
    )

    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["notificationChannelId"])
    assert body["applicationId"] == str(alice.application.id)
    assert body["type"] == "Webhook"
    assert body["url"] == HOOK
    assert body["isActive"] is True
    assert body["includeImageData"] is True
    assert body["disabledReason"] is None
    assert body["createdAt"] and body["updatedAt"]
    assert body["signingSecret"].startswith("whsec_")
    channel = NotificationChannel.objects.get(pk=body["notificationChannelId"])
    assert channel.application_id == alice.application.id
    assert channel.signing_secret == body["signingSecret"]


def test_create_defaults_to_an_active_webhook_without_image_data(client, alice_headers):
    response = client.post(
        BASE, {"url": HOOK}, content_type="application/json", headers=alice_headers
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["type"], body["isActive"], body["includeImageData"]) == ("Webhook", True, False)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": None}, "url"),
        ({"url": ""}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": "https:///no-host"}, "url"),
        ({"url": "https://hooks.example.com:99999/x"}, "url"),
        ({"url": "https://no-such-host.example.com/x"}, "url"),
        ({"url": "http://10.1.2.3/hook"}, "url"),
        ({"url": "http://192.168.0.10/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "http://[fe80::1]/hook"}, "url"),
        ({"url": "http://0.0.0.0:8000/hook"}, "url"),
        ({"type": "RabbitMQ"}, "url"),  # an http URL is not an AMQP one
        ({"type": "Carrier pigeon"}, "type"),
        ({"isActive": "maybe"}, "isActive"),
        ({"includeImageData": "often"}, "includeImageData"),
        ({"applicationId": "not-a-guid"}, "applicationId"),
    ],
)
def test_create_refuses_an_invalid_field_naming_it(client, alice_headers, fields, field):
    body = {"type": "Webhook", "url": HOOK, **fields}
    if body["url"] is None:
        del body["url"]
    response = client.post(BASE, body, content_type="application/json", headers=alice_headers)

    assert response.status_code == 400
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert problem["status"] == 400
    assert field in problem["errors"], problem
    assert not NotificationChannel.objects.exists()


def test_a_private_url_is_refused_with_the_reason(client, alice_headers, fake_dns):
    fake_dns.table["intranet.example.com"] = ["93.184.215.14", "10.0.0.7"]

    response = _create(client, alice_headers, url="https://intranet.example.com/hook")

    assert response.status_code == 400
    assert response.json()["errors"]["url"] == [
        "The host intranet.example.com resolves to 10.0.0.7, a private address."
    ]


def test_a_rabbitmq_channel_needs_an_amqp_url(client, alice_headers):
    # The rest of RabbitMQ channels: test_notification_rabbitmq.py.
    response = _create(client, alice_headers, type="RabbitMQ")

    assert response.status_code == 400
    assert "must start with amqp:// or amqps://" in response.json()["errors"]["url"][0]


def test_the_number_of_channels_is_bounded(client, alice_headers, settings):
    settings.NOTIFICATION_CHANNELS_PER_APPLICATION_MAX = 2
    assert _create(client, alice_headers).status_code == 201
    assert _create(client, alice_headers).status_code == 201

    response = _create(client, alice_headers)

    assert response.status_code == 400
    assert "at most 2" in response.json()["errors"][""][0]


def test_create_for_another_application_is_unauthorized(client, alice_headers, bob):
    response = _create(client, alice_headers, applicationId=str(bob.application.id))

    assert response.status_code == 401
    assert "applicationId" in response.json()["errors"]
    assert not NotificationChannel.objects.exists()


# --- authentication ----------------------------------------------------------------

ENDPOINTS = [
    ("post", BASE),
    ("get", BASE),
    ("get", f"{BASE}/Active"),
    ("get", f"{BASE}/{{id}}"),
    ("put", f"{BASE}/{{id}}"),
    ("patch", f"{BASE}/{{id}}"),
    ("delete", f"{BASE}/{{id}}"),
    ("post", f"{BASE}/{{id}}/RotateSecret"),
    ("get", f"{BASE}/{{id}}/Deliveries"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_credentials(client, alice_channel, alice_headers, method, path):
    url = path.format(id=alice_channel["notificationChannelId"])
    without = getattr(client, method)(url, {"url": HOOK}, content_type="application/json")
    wrong = dict(alice_headers, **{"x-api-secret": "fes_wrong"})
    with_wrong_secret = getattr(client, method)(
        url, {"url": HOOK}, content_type="application/json", headers=wrong
    )
    no_token = {k: v for k, v in alice_headers.items() if k != "Authorization"}
    without_token = getattr(client, method)(
        url, {"url": HOOK}, content_type="application/json", headers=no_token
    )

    for response in (without, with_wrong_secret, without_token):
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
    assert NotificationChannel.objects.count() == 1


# --- lists -------------------------------------------------------------------------


def test_list_all_and_list_active(client, alice_headers, bob_headers):
    active = _create(client, alice_headers).json()
    inactive = _create(client, alice_headers, isActive=False).json()
    _create(client, bob_headers)

    everything = client.get(BASE, headers=alice_headers)
    only_active = client.get(f"{BASE}/Active", headers=alice_headers)

    assert everything.status_code == only_active.status_code == 200
    assert [c["notificationChannelId"] for c in everything.json()] == [
        active["notificationChannelId"],
        inactive["notificationChannelId"],
    ]
    assert [c["notificationChannelId"] for c in only_active.json()] == [
        active["notificationChannelId"]
    ]
    assert all("signingSecret" not in c for c in everything.json())


def test_lists_accept_their_own_application_id_only(client, alice, alice_headers, bob):
    own = client.get(BASE, {"applicationId": str(alice.application.id)}, headers=alice_headers)
    other = client.get(
        f"{BASE}/Active", {"applicationId": str(bob.application.id)}, headers=alice_headers
    )
    invalid = client.get(BASE, {"applicationId": "nope"}, headers=alice_headers)

    assert own.status_code == 200
    assert other.status_code == 401
    assert invalid.status_code == 400
    assert "applicationId" in invalid.json()["errors"]


@pytest.mark.parametrize("path", ["", "/Active"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        # Accepted and ignored before: read as "not sent".
        ("applicationId=", "Must not be empty (leave applicationId out instead)."),
        ("applicationId={bob}&applicationId={alice}", "Send applicationId once, not 2 times."),
    ],
)
def test_lists_refuse_an_empty_or_repeated_application_id(
    client, alice, bob, alice_headers, path, query, message
):
    query = query.format(alice=alice.application.id, bob=bob.application.id)

    response = client.get(f"{BASE}{path}?{query}", headers=alice_headers)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"applicationId": [message]}


# --- one channel: get, update, delete, rotate -------------------------------------


def test_get_one(client, alice_channel, alice_headers):
    response = client.get(f"{BASE}/{alice_channel['notificationChannelId']}", headers=alice_headers)

    assert response.status_code == 200
    assert response.json()["url"] == HOOK
    assert "signingSecret" not in response.json()


def test_unknown_and_malformed_ids_are_not_found(client, alice_headers):
    unknown = client.get(f"{BASE}/{uuid.uuid4()}", headers=alice_headers)
    malformed = client.get(f"{BASE}/not-a-guid", headers=alice_headers)

    assert unknown.status_code == malformed.status_code == 404
    assert unknown["Content-Type"] == malformed["Content-Type"] == "application/problem+json"


def test_put_replaces_the_settings(client, alice_channel, alice_headers, fake_dns):
    fake_dns.table["new.example.com"] = ["93.184.215.15", "2606:4700::1111"]
    response = client.put(
        f"{BASE}/{alice_channel['notificationChannelId']}",
        {"type": "Webhook", "url": "https://new.example.com/in", "includeImageData": True},
        content_type="application/json",
        headers=alice_headers,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["url"] == "https://new.example.com/in"
    assert body["isActive"] is True
    assert body["includeImageData"] is True
    assert "signingSecret" not in body
    channel = NotificationChannel.objects.get()
    assert channel.url == "https://new.example.com/in"
    # The secret survives an update: receivers keep verifying with it.
    assert channel.signing_secret == alice_channel["signingSecret"]


def test_put_needs_the_url(client, alice_channel, alice_headers):
    response = client.put(
        f"{BASE}/{alice_channel['notificationChannelId']}",
        {"isActive": False},
        content_type="application/json",
        headers=alice_headers,
    )

    assert response.status_code == 400
    assert "url" in response.json()["errors"]


def test_update_refuses_a_private_url(client, alice_channel, alice_headers):
    response = client.patch(
        f"{BASE}/{alice_channel['notificationChannelId']}",
        {"url": "http://172.16.5.4/hook"},
        content_type="application/json",
        headers=alice_headers,
    )

    assert response.status_code == 400
    assert "private address" in response.json()["errors"]["url"][0]
    assert NotificationChannel.objects.get().url == HOOK


def test_patch_changes_only_what_is_sent(client, alice_channel, alice_headers):
    response = client.patch(
        f"{BASE}/{alice_channel['notificationChannelId']}",
        {"isActive": False},
        content_type="application/json",
        headers=alice_headers,
    )

    assert response.status_code == 200
    assert response.json()["isActive"] is False
    assert response.json()["url"] == HOOK
    assert client.get(f"{BASE}/Active", headers=alice_headers).json() == []


def test_reactivating_a_channel_the_server_disabled_clears_the_reason(
    client, alice_channel, alice_headers
):
    NotificationChannel.objects.update(is_active=False, disabled_reason="410 Gone")
    before = client.get(f"{BASE}/{alice_channel['notificationChannelId']}", headers=alice_headers)
    assert before.json()["disabledReason"] == "410 Gone"

    response = client.patch(
        f"{BASE}/{alice_channel['notificationChannelId']}",
        {"isActive": True},
        content_type="application/json",
        headers=alice_headers,
    )

    assert response.status_code == 200
    assert response.json()["isActive"] is True
    assert response.json()["disabledReason"] is None


def test_delete(client, alice_channel, alice_headers):
    url = f"{BASE}/{alice_channel['notificationChannelId']}"

    response = client.delete(url, headers=alice_headers)

    assert response.status_code == 204
    assert not NotificationChannel.objects.exists()
    assert client.delete(url, headers=alice_headers).status_code == 404


def test_rotate_secret_answers_a_new_secret_once(client, alice_channel, alice_headers):
    response = client.post(
        f"{BASE}/{alice_channel['notificationChannelId']}/RotateSecret", headers=alice_headers
    )

    assert response.status_code == 200
    secret = response.json()["signingSecret"]
    assert secret.startswith("whsec_") and secret != alice_channel["signingSecret"]
    channel = NotificationChannel.objects.get()
    assert channel.signing_secret == secret
    assert channel.previous_signing_secret == alice_channel["signingSecret"]


def test_deliveries_lists_the_latest_first(client, alice_channel, alice_headers):
    channel = NotificationChannel.objects.get()
    for n in range(3):
        WebhookDelivery.objects.create(
            channel=channel,
            webhook_id=f"msg_{n}",
            message_type="ImageFaceEnhancingProgress",
            payload={"Progress": n * 10},
        )
    url = f"{BASE}/{channel.pk}/Deliveries"

    response = client.get(url, {"limit": 2}, headers=alice_headers)
    bad_limit = client.get(url, {"limit": 0}, headers=alice_headers)

    assert response.status_code == 200
    assert [d["webhookId"] for d in response.json()] == ["msg_2", "msg_1"]
    first = response.json()[0]
    assert first["status"] == "Pending"
    assert first["attempts"] == 0
    assert first["payload"] == {"Progress": 20}
    assert bad_limit.status_code == 400
    assert "limit" in bad_limit.json()["errors"]


# --- isolation: bob never sees, changes or deletes alice's channels ----------------


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if "{id}" in e[1]])
def test_another_applications_channel_is_not_found(
    client, alice_channel, bob_headers, method, path
):
    url = path.format(id=alice_channel["notificationChannelId"])

    response = getattr(client, method)(
        url,
        {"url": "https://hooks.example.com/bob", "isActive": False},
        content_type="application/json",
        headers=bob_headers,
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    channel = NotificationChannel.objects.get(pk=alice_channel["notificationChannelId"])
    assert channel.url == HOOK
    assert channel.is_active is True
    assert channel.signing_secret == alice_channel["signingSecret"]


def test_bob_lists_only_his_channels(client, alice_channel, bob_headers):
    assert client.get(BASE, headers=bob_headers).json() == []
    assert client.get(f"{BASE}/Active", headers=bob_headers).json() == []


# --- documentation -----------------------------------------------------------------


def test_the_openapi_schema_documents_every_operation(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    for operation in (
        "createNotificationChannel",
        "listNotificationChannels",
        "listActiveNotificationChannels",
        "getNotificationChannel",
        "updateNotificationChannel",
        "patchNotificationChannel",
        "deleteNotificationChannel",
        "rotateNotificationChannelSecret",
        "listNotificationChannelDeliveries",
    ):
        assert operation in schema
    assert "signingSecret" in schema
