"""Admin for applications and their credentials.

Secrets are shown once, in a message on the page that made them, and are
never stored in clear. Messages are kept in the session (see settings), not
in a cookie, so the secrets do not travel back to the browser a second time.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from enhancer.credentials import IssuedCredential, credential_issue, credential_rotate
from enhancer.models import ApiCredential, Application


def _show_secrets(request: HttpRequest, issued: IssuedCredential) -> None:
    rows = format_html_join(
        "", "<li><code>{}</code>: <code>{}</code></li>", issued.to_dict().items()
    )
    messages.warning(
        request,
        format_html(
            "New credentials for {}. Copy them now; they are not shown again:<ul>{}</ul>",
            issued.application.name,
            rows,
        ),
    )


class ApiCredentialInline(admin.TabularInline):
    model = ApiCredential
    fields = ("api_key", "created_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at")
    inlines = [ApiCredentialInline]
    actions = ["rotate_credentials"]

    def save_model(
        self, request: HttpRequest, obj: Application, form: object, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            _show_secrets(request, credential_issue(application=obj))

    @admin.action(description="Rotate credentials (new secrets, the old ones revoked)")
    def rotate_credentials(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        for application in queryset:
            _show_secrets(request, credential_rotate(application=application))


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = ("api_key", "application", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("api_key", "application__name", "application__id")
    readonly_fields = (
        "application",
        "api_key",
        "api_secret_hash",
        "jwt_private_key_hash",
        "created_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New credentials come from the application page (create or rotate),
        # where their secrets can be shown once.
        return False
