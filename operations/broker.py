"""Broker restarts: notice them, and send again the work whose messages they lost.

A restarted Redis loses the messages the workers held unacknowledged (countdowns,
prefetched tasks: kombu could not give them back while it was down, celery
issue #1307), and one restarted without its data loses every queued message
too. The rows still say what was under way, so nothing needs the messages:
every few seconds (BROKER_CHECK_INTERVAL, on beat) `broker_check` compares the
server's run id with the one a marker key recorded, and after a restart, or
with the marker gone with the data, re-sends the work at once rather than when
the slow sweeps get to it. Each re-sent message is safe to run twice: processes
are claimed (enhancer.processing.claims), deliveries and jobs move by conditional UPDATEs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from celery import current_app

from dashboard.services import jobs_sweep
from enhancer.notifications.deliveries import deliveries_recover
from enhancer.processing.recovery import process_recover_all

logger = logging.getLogger(__name__)

# Holds the run id of the Redis server that wrote it. No TTL: the broker runs
# with `noeviction`, so only a restart without persistence or a flush drops it.
MARKER_KEY = "face-enhancer:broker-run-id"


@dataclass(frozen=True)
class Recovery:
    processes: int
    deliveries: int
    jobs: int


def broker_restarted() -> bool:
    """True once after each restart of the broker, and when it lost its data.

    SET ... GET swaps the marker for the current run id in one command (Redis
    6.2+): the old value is None when the data is gone, another run id after a
    restart that kept it. The first look ever counts as a restart too, which
    only re-sends what is still queued.
    """
    with current_app.pool.acquire(block=True) as connection:
        # celery-types calls app.pool a ProducerPool; Celery's is a pool of Connections.
        client = connection.default_channel.client  # type: ignore[attr-defined]
        run_id = client.info("server")["run_id"]
        previous = client.set(MARKER_KEY, run_id, get=True)
    if isinstance(previous, bytes):
        previous = previous.decode()
    if previous == run_id:
        return False
    if previous is None:
        # A fresh install looks exactly like a broker that lost its data.
        logger.warning("the broker holds no mark of an earlier look: first start, or data lost")
    else:
        logger.warning("the broker restarted since the last look")
    return True


def broker_recover() -> Recovery:
    """Send again every unfinished piece of work whose message may have been lost."""
    recovery = Recovery(
        processes=process_recover_all(),
        deliveries=len(deliveries_recover()),
        jobs=sum(vars(jobs_sweep(stale_after=0)).values()),
    )
    # Nothing to send again (a first start, an idle restart) is no cause for alarm.
    level = logging.WARNING if any(vars(recovery).values()) else logging.INFO
    logger.log(level, "after the broker restart, sent again: %s", recovery)
    return recovery


def broker_check() -> Recovery | None:
    return broker_recover() if broker_restarted() else None
