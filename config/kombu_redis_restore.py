"""Workaround: a worker that loses the broker while holding messages must not die of it.

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
            len(self._delivered),
        )
        # restore_unacked_once asserts the state is empty once restored.
        self._delivered.clear()
        return None
    return _restore_unacked(self, client)


def install() -> None:
    redis.QoS.restore_unacked = _restore_unacked_unless_closed  # type: ignore[method-assign]
