"""Operations: districts with their last run and sharing counts, run history, reviews."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.models import User
from accounts.services import LinkRefused, user_link_by_hand, user_unlink_by_hand
from rostering import connections, csvadmin, selectors, services
from rostering.matching import matching_report
from rostering.models import District, SyncError, SyncRun
from rostering.sync.specs import ALL_NAMES
from rostering.tasks import sync_district

__all__ = ["csvadmin"]  # registers the CSV district pages


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "clever_id",
        "status",
        "last_run",
        "live_schools",
        "live_sections",
        "live_users",
        "clever_launch_date",
        "matching",
    )
    list_filter = ("status",)
    search_fields = ("name", "clever_id")
    readonly_fields = (
        "clever_id",
        "status",
        "connected_at",
        "disconnected_at",
        "last_event_id",
        "created_at",
        "updated_at",
        "clever_launch_date",
        "clever_sis_sync",
        "clever_state_checked_at",
    )
    fieldsets = (
        (None, {"fields": ("name", *readonly_fields[:7])}),
        (
            "What Clever says of the district",
            {
                "description": (
                    "Read from Clever's district record (GET /v3.0/districts/{id}) at every "
                    "sync and token refresh, and by Test connection. The launch date is the one "
                    "set in Clever's dashboard; logins follow it."
                ),
                "fields": ("clever_launch_date", "clever_sis_sync", "clever_state_checked_at"),
            },
        ),
    )
    actions = ("sync_now", "test_connection")

    @admin.display(description="Clever's SIS sync")
    def clever_sis_sync(self, obj: District) -> str:
        if obj.clever_state_checked_at is None:
            return "not read from Clever yet"
        parts = [obj.clever_state or "no state given"]
        if obj.clever_last_sync:
            parts.append(f"last SIS sync {obj.clever_last_sync:%Y-%m-%d %H:%M} UTC")
        if obj.clever_pause_start or obj.clever_pause_end:
            start = f"{obj.clever_pause_start:%Y-%m-%d}" if obj.clever_pause_start else "?"
            end = f"{obj.clever_pause_end:%Y-%m-%d}" if obj.clever_pause_end else "?"
            parts.append(f"paused {start} to {end}")
        if obj.clever_error:
            parts.append(f"error: {obj.clever_error}")
        return "; ".join(parts)

    def get_queryset(self, request: HttpRequest) -> QuerySet[District]:
        return selectors.district_overview()

    @admin.display(description="Last run")
    def last_run(self, obj: District) -> str:
        if not getattr(obj, "last_run_id", None):
            return "never"
        return format_html(
            '<a href="../syncrun/{}/change/">#{} {}</a> {}',
            obj.last_run_id,
            obj.last_run_id,
            obj.last_run_status,
            obj.last_run_at.strftime("%Y-%m-%d %H:%M UTC"),
        )

    @admin.display(description="Schools", ordering="live_schools")
    def live_schools(self, obj: District) -> int:
        return obj.live_schools

    @admin.display(description="Sections", ordering="live_sections")
    def live_sections(self, obj: District) -> int:
        return obj.live_sections

    @admin.display(description="Users", ordering="live_users")
    def live_users(self, obj: District) -> int:
        return obj.live_users

    @admin.display(description="Account matching")
    def matching(self, obj: District) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:rostering_district_matching", args=[obj.pk])
        return format_html('<a href="{}">Matching report</a>', url)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.matching_view)
        return [
            path("<int:pk>/matching/", view, name="rostering_district_matching"),
            *super().get_urls(),
        ]

    def matching_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The district's matching report; POST links or unlinks one account, with a reason."""
        district = get_object_or_404(District, pk=pk)
        can_change = request.user.has_perm("accounts.change_user")
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            reason = request.POST.get("reason", "")
            try:
                user = get_object_or_404(User, pk=request.POST.get("user", ""))
                if request.POST.get("action") == "link":
                    clever_id = request.POST.get("clever_id", "").strip()
                    user_link_by_hand(
                        user=user, clever_id=clever_id, reason=reason, actor=request.user
                    )
                    self.message_user(
                        request, f"Linked {user.username} to Clever user {clever_id}."
                    )
                else:
                    user_unlink_by_hand(user=user, reason=reason, actor=request.user)
                    self.message_user(
                        request,
                        f"Unlinked {user.username}; the next sync gives the Clever user an "
                        "account of their own.",
                    )
            except LinkRefused as exc:
                self.message_user(request, f"Not done: {exc}.", messages.ERROR)
            return redirect("admin:rostering_district_matching", pk=district.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Account matching: {district.name or district.clever_id}",
            "opts": self.model._meta,
            "district": district,
            "report": matching_report(district=district),
            "can_change": can_change,
        }
        return TemplateResponse(request, "admin/rostering/district/matching.html", context)

    @admin.action(description="Sync now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[District]) -> None:
        for district in queryset:
            sync_district.delay_on_commit(district.pk, SyncRun.Trigger.MANUAL)
        self.message_user(
            request, f"Sync requested for {queryset.count()} district(s); see the run history."
        )

    @admin.action(description="Test connection")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[District]) -> None:
        for district in queryset:
            check = connections.district_test_connection(district=district)
            level = messages.SUCCESS if check.ok else messages.ERROR
            self.message_user(request, f"{district}: {check.message}", level)


class SyncErrorInline(admin.TabularInline):
    model = SyncError
    fields = ("record_type", "clever_id", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False


def _names(names: list[str], total: int) -> str:
    more = f" and {total - len(names)} more" if total > len(names) else ""
    return ": " + ", ".join(names) + more


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "district",
        "trigger",
        "status",
        "dry_run",
        "created_at",
        "finished_at",
        "stopped_at",
        "short_error",
    )
    list_filter = ("status", "trigger", "dry_run", "district")
    list_select_related = ("district",)
    search_fields = ("district__name", "district__clever_id", "error")
    date_hierarchy = "created_at"
    readonly_fields = (
        "district",
        "trigger",
        "status",
        "dry_run",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "counts_table",
        "plan_summary",
        "stopped_at",
        "error",
        "reviewed_by",
        "reviewed_at",
    )
    exclude = ("counts", "plan")
    inlines = (SyncErrorInline,)
    actions = ("approve", "discard")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Error")
    def short_error(self, obj: SyncRun) -> str:
        return obj.error[:120]

    @admin.display(description="Counts")
    def counts_table(self, obj: SyncRun) -> str:
        columns = ("created", "updated", "unchanged", "archived", "restored")
        rows = [
            (name, *(obj.counts[name].get(c, 0) for c in columns))
            for name in ALL_NAMES
            if name in obj.counts
        ]
        if not rows:
            return "-"
        head = mark_safe("".join(f"<th>{c}</th>" for c in ("", *columns)))  # noqa: S308
        body = format_html_join("", "<tr>" + "<td>{}</td>" * (len(columns) + 1) + "</tr>", rows)
        return format_html("<table><tr>{}</tr>{}</table>", head, body)

    @admin.display(description="Held for review")
    def plan_summary(self, obj: SyncRun) -> str:
        if not obj.plan:
            return "-"
        reasons = format_html_join("", "<li>{}</li>", ((r,) for r in obj.plan.get("reasons", [])))
        held = selectors.held_records(run=obj)
        archive = format_html_join(
            "",
            "<li>archive {} {}{}</li>",
            (
                (
                    entry.get("count", 0),
                    name,
                    _names(*held[name]) if name in held else "",
                )
                for name, entry in obj.plan.get("archive", {}).items()
            ),
        )
        return format_html("<ul>{}</ul><ul>{}</ul>", reasons, archive)

    def _review(self, request: HttpRequest, queryset: QuerySet[SyncRun], approve: bool) -> None:
        action: Any = services.sync_run_approve if approve else services.sync_run_discard
        for run in queryset:
            try:
                action(run=run, user=request.user)
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                verb = "approved: archives applied" if approve else "discarded: nothing archived"
                self.message_user(request, f"Run #{run.pk} {verb}.", messages.SUCCESS)

    @admin.action(description="Approve (apply the held archives)")
    def approve(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        self._review(request, queryset, approve=True)

    @admin.action(description="Discard (archive nothing)")
    def discard(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        self._review(request, queryset, approve=False)
