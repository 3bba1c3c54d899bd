"""Publishing a notification to a client's RabbitMQ: the other channel type AdCreative has.

AdCreative's public pages say only that messages reach "the specified RabbitMQ
queue" and name the exchange `image-render.notifications` with the routing
keys `task.completed` and `progress.update`. What we decided beyond that:

- a channel holds an AMQP URL (`amqp://user:password@host:port/vhost`, or
  amqps://), an exchange (AdCreative's by default; empty is the broker's
  default exchange, where the routing key names a queue) and a routing key
  (empty: AdCreative's, by message type);
- the exchange is the client's and is not declared here: a missing one is a
  failed attempt, retried, so that nothing is created on a client's broker;
- each message is the webhook's JSON body, published persistent
  (delivery_mode 2), `mandatory` (a message no queue takes is a failure, not
  silently dropped) and with publisher confirms: an attempt succeeds only on
  the broker's ack. It carries the Standard Webhooks headers as AMQP headers,
  so a consumer can verify it with the channel's signing secret as well.

The password is stored apart from the URL, encrypted (models.amqp_password),
and the URL kept and shown has none. The host passes the same SSRF guard as a
webhook's, at save time and at connect time (the socket goes to the checked
address). Errors before the broker speaks AMQP read alike, as for webhooks.
"""

from __future__ import annotations

import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, unquote

import amqp

from enhancer.notifications.ssrf import UrlRefused, host_check, permitted_addresses, url_split

logger = logging.getLogger(__name__)

ADCREATIVE_EXCHANGE = "image-render.notifications"
ADCREATIVE_ROUTING_KEYS = {
    "ImageFaceEnhancingTaskCompleted": "task.completed",
    "ImageFaceEnhancingProgress": "progress.update",
}
# RabbitMQ's own rule for exchange names; routing keys are any short string.
EXCHANGE_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{0,255}$")
NOT_PUBLISHED = "No AMQP answer from the broker (unreachable, too slow, or not an AMQP server)."


class NotPublished(Exception):
    """An attempt that may succeed later; the message is for the tenant."""


@dataclass(frozen=True)
class AmqpUrl:
    tls: bool
    host: str
    port: int
    username: str
    password: str | None
    vhost: str

    def without_password(self) -> str:
        scheme = "amqps" if self.tls else "amqp"
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        vhost = "" if self.vhost == "/" else quote(self.vhost, safe="")
        return f"{scheme}://{user}{host}:{self.port}/{vhost}"


def url_parse(url: str) -> AmqpUrl:
    """The parts of an AMQP URL; UrlRefused says what is wrong with it."""
    parts = url_split(
        url,
        schemes=("amqp", "amqps"),
        wrong_scheme="A RabbitMQ URL must start with amqp:// or amqps://.",
    )
    assert parts.hostname is not None  # url_split refuses a URL without one
    if parts.query or parts.fragment:
        raise UrlRefused("The URL must not have a query or a fragment.")
    tls = parts.scheme == "amqps"
    # An empty path (or "/") is the default vhost "/", as clients read it;
    # "/x" is the vhost "x" and "/%2Fx" the vhost "/x".
    vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
    return AmqpUrl(
        tls=tls,
        host=parts.hostname,
        port=parts.port or (5671 if tls else 5672),
        username=unquote(parts.username or ""),
        password=unquote(parts.password) if parts.password is not None else None,
        vhost=vhost,
    )


def url_check(url: str) -> AmqpUrl:
    """Refuse an AMQP URL that is malformed or whose host the SSRF guard refuses."""
    target = url_parse(url)
    host_check(target.host, target.port)
    return target


def routing_key(*, channel_key: str, message_type: str) -> str:
    return channel_key or ADCREATIVE_ROUTING_KEYS[message_type]


def _connect(target: AmqpUrl, password: str, timeout: float) -> amqp.Connection:
    try:
        addresses = permitted_addresses(target.host, target.port)
    except socket.gaierror as e:
        raise NotPublished(NOT_PUBLISHED) from e
    last_error: Exception | None = None
    for address in addresses:
        host = f"[{address}]:{target.port}" if ":" in address else f"{address}:{target.port}"
        tls: dict[str, object] | bool = False
        if target.tls:
            # py-amqp's `context` form: ssl.create_default_context() (the
            # system's CAs, certificate required) with the certificate checked
            # against the host name, not the address the socket goes to.
            tls = {"context": {"check_hostname": True}, "server_hostname": target.host}
        connection = amqp.Connection(
            host=host,
            userid=target.username or "guest",
            password=password,
            virtual_host=target.vhost,
            ssl=tls,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            confirm_publish=True,
        )
        try:
            connection.connect()
            return connection
        except amqp.exceptions.AccessRefused as e:
            raise NotPublished("The broker refused the user name or password.") from e
        except amqp.exceptions.NotAllowed as e:
            raise NotPublished(f"The broker refused the virtual host {target.vhost!r}.") from e
        except (OSError, amqp.exceptions.AMQPError) as e:
            # Refused, timed out, or not an AMQP server: the same words.
            last_error = e
            logger.info("AMQP connection to %s failed: %r", host, e)
    raise NotPublished(NOT_PUBLISHED) from last_error


def publish(
    *,
    url: str,
    password: str,
    exchange: str,
    key: str,
    message_id: str,
    message_type: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> None:
    """Publish one message and wait for the broker's confirm.

    Raises UrlRefused (never retried), NotPublished (retried).
    """
    target = url_parse(url)
    connection = _connect(target, password, timeout)
    returned: list[str] = []
    try:
        channel = connection.channel()
        # With `mandatory`, a message no queue takes comes back before the ack.
        # amqp-stubs' Channel lacks `events` (amqp's Channel.__init__ sets it).
        channel.events["basic_return"].add(  # type: ignore[attr-defined]
            lambda exc, exchange, routing_key, message: returned.append(str(exc))
        )
        message = amqp.Message(
            body,
            content_type="application/json",
            delivery_mode=2,
            message_id=message_id,
            type=message_type,
            application_headers=dict(headers),
        )
        try:
            channel.basic_publish(
                message, exchange=exchange, routing_key=key, mandatory=True, confirm_timeout=timeout
            )
        except amqp.exceptions.NotFound as e:
            raise NotPublished(f"The exchange {exchange!r} does not exist on the broker.") from e
        except amqp.exceptions.MessageNacked as e:
            raise NotPublished("The broker did not accept the message (nack).") from e
        except (OSError, amqp.exceptions.AMQPError) as e:
            logger.info("AMQP publish to %s failed: %r", target.host, e)
            raise NotPublished("The broker did not confirm the message in time.") from e
        if returned:
            raise NotPublished(
                f"No queue is bound to exchange {exchange!r} with routing key {key!r}."
            )
    finally:
        try:
            connection.close()
        except Exception:  # the outcome is known already; closing is best effort
            logger.debug("closing the AMQP connection failed", exc_info=True)
