"""Workarounds: a worker that loses the broker must not die of it.

1. Restoring the messages it holds, while the broker is gone.

celery 5.7.0 with kombu 5.7.0 (the newest releases, redis-py 8.1.0): on a lost
connection the worker's consumer calls `connection.collect()`, which drops the
transport's `client`, and then `connection.close()`. Closing the default channel
restores the messages the worker holds unacknowledged (countdowns, prefetched
tasks), and kombu's Redis channel rebuilds its connection pool for that from
`connection.client`, now None: `AttributeError: 'NoneType' object has no
attribute 'hostname'` in `_connparams`, which `ignore_errors` does not catch,
so the worker stops with "Unrecoverable error". It is the failing path of
kombu issues #970 and #582 (restore_unacked after the transport was closed),
reached by a new route; a worker holding no message closes without a restore,
which is why it shows only under load.

The restore could not succeed anyway: the broker has just gone away. Skipped,
the messages stay in the broker's `unacked` hash (delivered again after the
visibility timeout if the server kept its data), and operations.broker sends
the work they carried again as soon as the broker is back. Remove this module
once a kombu release restores without a closed transport's client.

2. Acknowledging, after the reconnection, a task that ran through the outage.
A task that was running when the connection was lost (acks_late) finishes
later and acknowledges its message on the channel of the old connection,
which kombu has closed meanwhile (`channel.connection` is None): kombu then
raises AttributeError in `_connparams`, which Celery's `ack_log_error` does not
catch either, and the worker stops with "Unrecoverable error" (seen in
tests/system/test_chaos.py on the default worker). That channel cannot reach the
broker any more: the acknowledgement is dropped, and the message stays in the
broker's `unacked` hash until the visibility timeout delivers it again, to a
task that finds its work done (processes are claimed, jobs and deliveries move
by conditional updates).
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis

logger = logging.getLogger(__name__)

_restore_unacked = redis.QoS.restore_unacked


def _restore_unacked_unless_closed(self: redis.QoS, client: Any = None) -> Any:
    if client is None and self.channel.connection.client is None:
        logger.warning(
            "broker connection lost: %s unacknowledged message(s) left to the broker",
            len(self._delivered or ()),
        )
        # restore_unacked_once asserts the state is empty once restored.
        if self._delivered is not None:
            self._delivered.clear()
        return None
    return _restore_unacked(self, client)


_ack = redis.QoS.ack
_reject = redis.QoS.reject


def _closed(qos: redis.QoS) -> bool:
    channel = qos.channel
    return bool(channel.closed) or channel.connection is None


def _ack_unless_closed(self: redis.QoS, delivery_tag: Any) -> None:
    if _closed(self):
        logger.warning(
            "message %s acknowledged on a closed channel (the broker connection was lost "
            "while its task ran): left to the broker's visibility timeout",
            delivery_tag,
        )
        if self._delivered is not None:
            self._delivered.pop(delivery_tag, None)
        return
    _ack(self, delivery_tag)


def _reject_unless_closed(self: redis.QoS, delivery_tag: Any, requeue: bool = False) -> None:
    if _closed(self):
        logger.warning(
            "message %s rejected on a closed channel: left to the broker's visibility timeout",
            delivery_tag,
        )
        if self._delivered is not None:
            self._delivered.pop(delivery_tag, None)
        return
    _reject(self, delivery_tag, requeue=requeue)


def install() -> None:
    # Patching kombu's Redis QoS methods in place is what this module is for.
    redis.QoS.restore_unacked = _restore_unacked_unless_closed  # type: ignore[method-assign]
    redis.QoS.ack = _ack_unless_closed  # type: ignore[method-assign]
    redis.QoS.reject = _reject_unless_closed  # type: ignore[method-assign]
