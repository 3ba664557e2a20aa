from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "source", "clever_id", "district", "archived_at")
    list_filter = ("source", "is_staff", "archived_at", "district")
    search_fields = ("username", "first_name", "last_name", "email", "clever_id")
    readonly_fields = ("clever_id", "district", "archived_at", "last_seen_run", "sync_digest")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Clever",
            {
                "fields": (
                    "source",
                    "clever_id",
                    "district",
                    "middle_name",
                    "preferred_name",
                    "archived_at",
                    "last_seen_run",
                    "sync_digest",
                )
            },
        ),
    )
