"""GET /metrics: Prometheus metrics, read from the database and the broker.

The numbers come from the source of truth at scrape time, not from counters
kept in memory: the web server and the workers are many processes, and a
process's counters die with it. One scrape costs a handful of aggregate
queries.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from config.celery import queue_depth
from dashboard.models import Job
from enhancer.models import FaceEnhancerProcess, ProcessStatus
from enhancer.notifications.models import DeliveryStatus, WebhookDelivery

# Seconds from upload to Completed. Most one-face photos take a few seconds on
# two cores; group photos and queues make the tail.
BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
QUEUES = ("enhance", "default")


class FaceEnhancerCollector:
    def collect(self) -> Iterator[Metric]:
        yield self._processes()
        yield self._processing_time()
        yield self._queues()
        yield from self._webhooks()
        yield self._jobs()

    def _processes(self) -> Metric:
        metric = GaugeMetricFamily(
            "face_enhancer_processes", "Face enhancing processes by status.", labels=["status"]
        )
        counts = _counts(FaceEnhancerProcess.objects.all(), "status")
        for status in ProcessStatus.values:
            metric.add_metric([status], counts.get(status, 0))
        return metric

    def _processing_time(self) -> Metric:
        duration = ExpressionWrapper(
            F("finished_at") - F("created_at"), output_field=DurationField()
        )
        completed = FaceEnhancerProcess.objects.filter(
            status=ProcessStatus.COMPLETED, finished_at__isnull=False
        ).annotate(duration=duration)
        totals = completed.aggregate(
            count=Count("id"),
            total=Sum("duration"),
            **{
                f"le_{bound}": Count("id", filter=Q(duration__lte=timedelta(seconds=bound)))
                for bound in BUCKETS
            },
        )
        buckets = [(str(float(b)), totals[f"le_{b}"]) for b in BUCKETS]
        buckets.append(("+Inf", totals["count"]))
        total = totals["total"]
        return HistogramMetricFamily(
            "face_enhancer_processing_seconds",
            "Time from upload to Completed of the completed processes.",
            buckets=buckets,
            sum_value=total.total_seconds() if total else 0.0,
        )

    def _queues(self) -> Metric:
        metric = GaugeMetricFamily(
            "face_enhancer_queue_depth",
            "Messages waiting in each Celery queue (absent when the broker cannot be asked).",
            labels=["queue"],
        )
        for queue in QUEUES:
            depth = queue_depth(queue)
            if depth is not None:
                metric.add_metric([queue], depth)
        return metric

    def _webhooks(self) -> Iterator[Metric]:
        counts = _counts(WebhookDelivery.objects.all(), "status")
        deliveries = GaugeMetricFamily(
            "face_enhancer_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
        )
        for status in DeliveryStatus.values:
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries
        yield GaugeMetricFamily(
            "face_enhancer_webhook_delivery_failures",
            "Webhook deliveries that failed for good (every attempt refused or unanswered).",
            value=counts.get(DeliveryStatus.FAILED, 0),
        )

    def _jobs(self) -> Metric:
        metric = GaugeMetricFamily(
            "face_enhancer_dashboard_jobs", "Dashboard jobs by status.", labels=["status"]
        )
        counts = _counts(Job.objects.all(), "status")
        for status in Job.Status.values:
            metric.add_metric([status], counts.get(status, 0))
        return metric


def _counts(queryset: QuerySet[Any], field: str) -> dict[str, int]:
    return dict(queryset.order_by().values_list(field).annotate(n=Count("pk")))


registry = CollectorRegistry(auto_describe=False)
registry.register(FaceEnhancerCollector())


def _from_allowed_network(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Protected either way (issue 12): the counts tell how busy each tenant keeps us.

    With METRICS_TOKEN the bearer token is the key, from anywhere; without it
    only a scraper in METRICS_ALLOWED_NETWORKS (loopback by default) is served.
    """
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse(
                "A bearer token is required.",
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    elif not _from_allowed_network(request):
        return HttpResponse(
            "Metrics are served to METRICS_ALLOWED_NETWORKS only, or with METRICS_TOKEN.",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
