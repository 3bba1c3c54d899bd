"""The SSRF guard: which addresses a webhook may reach, at creation and at connect time."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest

from enhancer.notifications import tasks
from enhancer.notifications.models import DeliveryStatus, NotificationChannel, WebhookDelivery
from enhancer.notifications.services import publish_event
from enhancer.notifications.signing import secret_generate
from enhancer.notifications.ssrf import UrlRefused, address_refusal, guarded_session, url_check


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.64.0.1", "a private address"),  # carrier-grade NAT
        ("fd00::1", "a private address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:0a00:0001::", "a private address"),  # 6to4 of 10.0.0.1
        ("169.254.169.254", "a link-local address"),  # cloud metadata
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104 - judged, not bound
        ("::", "an unspecified address"),
    ],
)
def test_addresses_are_judged_by_their_kind(address, refusal):
    judged = address_refusal(
        ipaddress.ip_address(address), allow_loopback=False, allow_private=False
    )

    assert judged == refusal


def test_the_settings_open_loopback_and_private_addresses_only():
    def refusal(address: str) -> str | None:
        return address_refusal(
            ipaddress.ip_address(address), allow_loopback=True, allow_private=True
        )

    assert refusal("127.0.0.1") is None
    assert refusal("10.0.0.1") is None
    assert refusal("169.254.169.254") == "a link-local address"
    assert refusal("0.0.0.0") == "an unspecified address"  # noqa: S104
    assert refusal("224.0.0.1") == "a multicast address"


def test_loopback_and_private_addresses_are_refused_by_default():
    # The settings as a server without any environment reads them (the test
    # run itself allows loopback for its receivers, see tests/conftest.py).
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFICATION_WEBHOOK_")}
    code = (
        "from django.conf import settings; "
        "print(settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK, "
        "settings.NOTIFICATION_WEBHOOK_ALLOW_PRIVATE_ADDRESSES, "
        "settings.NOTIFICATION_WEBHOOK_LOOPBACK_PORTS)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert out.splitlines()[-1].split() == ["False", "False", "[]"]


def test_loopback_refused_unless_allowed_or_its_port_is_opened(settings):
    settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = False
    settings.NOTIFICATION_WEBHOOK_LOOPBACK_PORTS = []
    # Redis, by the decimal form of 127.0.0.1 the issue probed with.
    for url in ("http://127.0.0.1:8000/webhooks/face-enhancer/1", "http://2130706433:6379/"):
        with pytest.raises(UrlRefused, match="loopback address"):
            url_check(url)
    with pytest.raises(UrlRefused, match="private address"):
        url_check("http://10.0.0.1/hook")

    # make run's setting: its own web port only, where the dashboard receives.
    settings.NOTIFICATION_WEBHOOK_LOOPBACK_PORTS = [8000]
    url_check("http://127.0.0.1:8000/webhooks/face-enhancer/1")
    with pytest.raises(UrlRefused, match="loopback address"):
        url_check("http://2130706433:6379/")
    with pytest.raises(UrlRefused, match="loopback address"):
        url_check("http://127.0.0.1/")  # port 80 is not 8000


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("http://", "has no host"),
        ("http://hooks.example.com:70000/", "not valid"),
        ("http://no-such-host.example.com/", "cannot be resolved"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
    ],
)
def test_url_check_explains_a_refusal(fake_dns, url, message):
    with pytest.raises(UrlRefused, match=message):
        url_check(url)


def test_a_name_with_one_inside_address_among_public_ones_is_refused(fake_dns):
    fake_dns.table["mixed.example.com"] = ["93.184.215.14", "192.168.1.20"]

    with pytest.raises(UrlRefused, match=r"192\.168\.1\.20, a private address"):
        url_check("https://mixed.example.com/hook")


def test_the_api_follows_the_settings(client, alice_headers, settings):
    def create(url: str) -> int:
        return client.post(
            "/api/v1/NotificationChannel",
            {"url": url},
            content_type="application/json",
            headers=alice_headers,
        ).status_code

    settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = False
    assert create("http://localhost:8000/hook") == 400
    assert create("http://[::1]:8000/hook") == 400

    settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = True
    assert create("http://127.0.0.1:8000/hook") == 201

    settings.NOTIFICATION_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert create("http://10.0.0.5/hook") == 201
    assert create("http://169.254.169.254/latest/meta-data/") == 400


# --- at connect time ------------------------------------------------------------------


def _deliver_one(application, url: str, receiver) -> WebhookDelivery:
    secret = secret_generate()
    receiver.secrets.append(secret)
    NotificationChannel.objects.create(application=application, url=url, signing_secret=secret)
    publish_event(
        message_type="ImageFaceEnhancingProgress",
        application_id=application.id,
        user_id=application.id,
        process_id=application.id,
        task_id=application.id,
        progress=10,
        is_successful=None,
        error_message=None,
        result_file_name=None,
    )
    delivery = WebhookDelivery.objects.get()
    tasks.deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_dns_rebinding_to_an_inside_address_is_refused_at_connect_time(
    alice, receiver, fake_dns, enqueued, settings
):
    # Public when the channel was saved, loopback when the message is sent.
    fake_dns.table["rebind.example.com"] = ["127.0.0.1"]
    settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = False

    delivery = _deliver_one(alice.application, receiver.url(host="rebind.example.com"), receiver)

    assert receiver.received == []
    assert delivery.status == DeliveryStatus.FAILED
    assert "resolves to 127.0.0.1, a loopback address" in delivery.last_error
    assert enqueued == []  # refused by policy: retrying would only be refused again


def test_the_connection_goes_to_the_checked_address_under_the_host_name(
    alice, receiver, fake_dns, enqueued
):
    fake_dns.table["dashboard.example.com"] = ["127.0.0.1"]

    delivery = _deliver_one(alice.application, receiver.url(host="dashboard.example.com"), receiver)

    assert delivery.status == DeliveryStatus.DELIVERED
    (received,) = receiver.received
    assert received.headers["host"] == f"dashboard.example.com:{receiver.port}"
    assert received.verification_error is None


def test_proxies_from_the_environment_are_not_used(alice, receiver, enqueued, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    delivery = _deliver_one(alice.application, receiver.url(), receiver)

    assert delivery.status == DeliveryStatus.DELIVERED


def test_the_guarded_session_refuses_before_connecting():
    with guarded_session() as session, pytest.raises(UrlRefused, match="link-local"):
        session.get("http://169.254.169.254/latest/meta-data/", timeout=1)


def test_the_guarded_session_never_follows_a_redirect(receiver):
    receiver.statuses = [301]

    with guarded_session() as session:
        response = session.post(receiver.url(), data=b"{}", timeout=5)  # redirects "allowed"

    assert response.status_code == 301
    assert [r.path for r in receiver.received] == ["/hook"]


def test_make_run_opens_only_its_own_web_port_to_the_dashboards_receiver():
    # bin/run's line, as bash runs it, then the settings and guard of that environment.
    root = Path(__file__).resolve().parents[2]
    (line,) = [
        line
        for line in (root / "bin" / "run").read_text().splitlines()
        if line.startswith("export NOTIFICATION_WEBHOOK_LOOPBACK_PORTS=")
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFICATION_WEBHOOK_")}
    env["PORT"] = "8123"
    code = """
from dashboard.models import ApiConnection
from dashboard.notification_channel import receiver_url
from enhancer.notifications.ssrf import UrlRefused, url_check

url_check(receiver_url(ApiConnection(pk=7)))
print("receiver ok")
try:
    url_check("http://127.0.0.1:6379/")
except UrlRefused as e:
    print(e)
"""
    out = subprocess.run(
        ["bash", "-c", f'{line}; exec "$0" manage.py shell -c "$1"', sys.executable, code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    ).stdout.splitlines()
    assert out[-2:] == [
        "receiver ok",
        "The host 127.0.0.1 resolves to 127.0.0.1, a loopback address.",
    ]
