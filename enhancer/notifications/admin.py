"""Admin for notification channels and their webhook deliveries.

Signing secrets are never displayed after the page that made them: a new
channel and a rotation show the secret once, in a message kept in the session.
Channels are saved through the services, so the SSRF guard and the channel
type rules are the same as in the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from enhancer.admin import narrow, short_id
from enhancer.notifications import rabbitmq, services
from enhancer.notifications.deliveries import delivery_resend
from enhancer.notifications.models import NotificationChannel, WebhookDelivery


def _show_secret(request: HttpRequest, channel: NotificationChannel) -> None:
    messages.warning(
        request,
        format_html(
            "Signing secret of the channel to {}: <code>{}</code>. "
            "Copy it now; it is not shown again.",
            channel.url,
            channel.signing_secret,
        ),
    )


# The AMQP password is not among them: it is set only through the URL and
# never shown again.
FORM_FIELDS = (
    "application",
    "type",
    "url",
    "exchange",
    "routing_key",
    "is_active",
    "include_image_data",
)


class NotificationChannelForm(forms.ModelForm):
    class Meta:
        model = NotificationChannel
        fields = FORM_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.fields["exchange"].initial = rabbitmq.ADCREATIVE_EXCHANGE
        for name in ("exchange", "routing_key"):
            self.fields[name].help_text = "RabbitMQ only (see the API's exchange and routingKey)."

    def clean(self) -> dict[str, Any]:
        super().clean()  # a ModelForm's: asks for the unique checks, returns cleaned_data
        data = self.cleaned_data
        if self.errors:
            return data
        adding = self.instance._state.adding
        url_changed = adding or "url" in self.changed_data
        routing = {"exchange": data["exchange"], "routing_key": data["routing_key"]}
        try:
            if url_changed:
                services.channel_check(
                    application=data["application"] if adding else None,
                    url=data["url"],
                    channel_type=data["type"],
                    **routing,
                )
            elif {"type", "exchange", "routing_key"} & set(self.changed_data):
                services.channel_check(
                    application=None, url=data["url"], channel_type=data["type"], **routing
                )
        except services.ChannelRefused as e:
            for field, field_messages in e.errors.items():
                name = {"routingKey": "routing_key"}.get(field, field)
                self.add_error(name if name in self.fields else None, field_messages)
        return data


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    form = NotificationChannelForm
    list_display = ("url", "application", "type", "is_active", "include_image_data", "created_at")
    list_filter = ("type", "is_active", "include_image_data")
    search_fields = ("url", "id", "application__name", "application__id")
    readonly_fields = ("id", "disabled_reason", "created_at", "updated_at")
    list_select_related = ("application",)
    actions = ["rotate_secret"]

    def get_fields(self, request: HttpRequest, obj: NotificationChannel | None = None) -> Any:
        fields = list(FORM_FIELDS)
        return (
            fields
            if obj is None
            else ["id", *fields, "disabled_reason", "created_at", "updated_at"]
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The application of an existing channel does not change.
        return self.readonly_fields + (("application",) if obj is not None else ())

    def save_model(
        self, request: HttpRequest, obj: NotificationChannel, form: Any, change: bool
    ) -> None:
        if change:
            services.channel_update(
                channel=obj,
                url=obj.url,
                channel_type=obj.type,
                is_active=obj.is_active,
                include_image_data=obj.include_image_data,
                exchange=obj.exchange,
                routing_key=obj.routing_key,
            )
            return
        created = services.channel_create(
            application=obj.application,
            url=obj.url,
            channel_type=obj.type,
            is_active=obj.is_active,
            include_image_data=obj.include_image_data,
            exchange=obj.exchange,
            routing_key=obj.routing_key,
        )
        # The admin goes on with `obj` (log entry, redirect): make it the saved row.
        obj.pk = created.pk
        obj.url = created.url  # without the AMQP password, for the admin's message
        obj._state.adding = False
        obj._state.db = created._state.db
        _show_secret(request, created)

    @admin.action(description="Rotate the signing secret (the old one signs too for a while)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[NotificationChannel]) -> None:
        for channel in queryset:
            _show_secret(request, services.channel_secret_rotate(channel=channel))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "status",
        "attempts",
        "last_status_code",
        "delivery",
        "message_type",
        "channel_url",
        "process",
        "created_at",
    )
    list_display_links = ("delivery",)
    list_filter = ("status", "message_type")
    search_fields = ("webhook_id", "process_id", "channel__url", "channel__application__name")
    list_select_related = ("channel",)
    date_hierarchy = "created_at"
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # deliveries come from events, not by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a log: read it, send again, or delete it

    # Short ids and a capped URL, so that status and attempts stay in view at 1280 px.
    @admin.display(description="webhook id", ordering="webhook_id")
    def delivery(self, delivery: WebhookDelivery) -> str:
        return short_id(delivery.webhook_id)

    @admin.display(description="channel", ordering="channel__url")
    def channel_url(self, delivery: WebhookDelivery) -> str:
        return narrow(delivery.channel, "16em")

    @admin.display(description="process", ordering="process_id")
    def process(self, delivery: WebhookDelivery) -> str:
        if delivery.process_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:enhancer_faceenhancerprocess_change", args=[delivery.process_id]),
            short_id(delivery.process_id),
        )

    @admin.action(description="Send again now (a fresh attempt budget)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            delivery_resend(delivery=delivery)
        messages.success(request, f"{len(queryset)} deliveries queued again.")
