"""Operations: districts with their last run and sharing counts, run history, reviews."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.services import LinkRefused, user_link_by_hand, user_unlink_by_hand
from rostering import (
    background,
    connections,
    csvadmin,
    csvservices,
    rosteradmin,
    runview,
    selectors,
    services,
    sftpfetch,
)
from rostering.matching import matching_report
from rostering.models import District, SyncError, SyncRun

__all__ = ["csvadmin", "rosteradmin"]  # register the CSV district and roster pages

# A Clever id: what Clever's API names records by (24 hex digits today; any id without spaces
# or a colon, which marks our CSV districts, is taken).
_CLEVER_ID = re.compile(r"^[^\s:]{1,64}$")
RECENT_RUNS = 10
method_decorator_post = method_decorator(require_POST)


class DistrictAddForm(forms.ModelForm):
    """A district added by hand: by its Clever id (it connects when Clever's token list holds
    it), or a CSV district by its key. Never neither."""

    csv_key = forms.SlugField(
        required=False,
        max_length=40,
        label="Or: CSV key",
        help_text="For a district rostered from CSV files: its SFTP drop username.",
    )

    class Meta:
        model = District
        fields = ("clever_id", "name")
        labels = {"clever_id": "Clever district id"}
        help_texts = {
            "clever_id": "From Clever's dashboard (the district's page). It connects, and "
            "syncs, once Clever's token list holds it (at the next token refresh)."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clever_id"].required = False

    def clean_clever_id(self) -> str:
        value = self.cleaned_data.get("clever_id", "").strip()
        if value and not _CLEVER_ID.match(value):
            raise forms.ValidationError(
                "A Clever id has no spaces or colons (e.g. 5a7b6c2e9f1d3e4a5b6c7d8e)."
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        clever_id, key = data.get("clever_id"), data.get("csv_key")
        if not clever_id and not key:
            raise forms.ValidationError(
                "Give the district's Clever id (or, for a CSV district, its key): a district "
                "without one can never sync or log anyone in."
            )
        if clever_id and key:
            raise forms.ValidationError("Give a Clever id or a CSV key, not both.")
        if key and District.objects.filter(csv__key=key).exists():
            raise forms.ValidationError(f"A CSV district with key {key} exists already.")
        return data


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    """Districts: the list with last run and counts; a district's page with Sync now, Test
    connection, Clever's own state, recent runs and counts."""

    change_form_template = "admin/rostering/district/change_form.html"
    list_display = (
        "name_or_id",
        "clever_id",
        "source",
        "status",
        "last_run",
        "live_schools",
        "live_sections",
        "live_users",
        "clever_launch_date",
        "matching",
    )
    list_filter = ("status", "source")
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

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        return rosteradmin.deletion_without_roster_perms(super().get_deleted_objects(objs, request))

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = DistrictAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("clever_id", "csv_key", "name")}),)
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: District, form: Any, change: bool) -> None:
        key = form.cleaned_data.get("csv_key") if not change else ""
        if not key:
            if not change:
                # Connected only once Clever's token list holds it (the next token refresh).
                obj.status = District.Status.DISCONNECTED
            super().save_model(request, obj, form, change)
            return
        added = csvservices.csv_district_add(key=key, name=obj.name, new_password=True)
        obj.pk = added.csv.district.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            f"CSV district {key}: SFTP drop password {added.password} (shown once).",
            messages.WARNING,
        )

    @admin.display(description="District", ordering="name")
    def name_or_id(self, obj: District) -> str:
        return obj.name or obj.clever_id or "(no name)"

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
            '<a href="{}">#{} {}</a> {}',
            reverse("admin:rostering_syncrun_change", args=[obj.last_run_id]),
            obj.last_run_id,
            SyncRun.Status(obj.last_run_status).label,
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
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/matching/", view(self.matching_view), name="rostering_district_matching"
            ),
            path("<int:pk>/sync/", view(self.sync_view), name="rostering_district_sync"),
            path("<int:pk>/test/", view(self.test_view), name="rostering_district_test"),
            *super().get_urls(),
        ]

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any,
                           **kwargs: Any) -> HttpResponse:  # fmt: skip
        obj = kwargs.get("obj")
        if obj is not None:
            runs = list(
                SyncRun.objects.filter(district=obj)
                .select_related("district", "reviewed_by")
                .order_by("-created_at")[:RECENT_RUNS]
            )
            context["recent_runs"] = [(run, runview.run_view(run)) for run in runs]
            context["roster_counts"] = selectors.district_counts(district=obj)
            context["can_sync"] = (
                self._can_sync(request) and obj.status == District.Status.CONNECTED
            )
        return super().render_change_form(request, context, *args, **kwargs)

    def _can_sync(self, request: HttpRequest) -> bool:
        return request.user.has_perm("rostering.change_district")

    @staticmethod
    def _start(request: HttpRequest, district: District) -> SyncRun:
        return background.district_run_start(district=district, requested_by=request.user)

    @method_decorator_post
    def sync_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Start a sync in the background and land on its run's page."""
        if not self._can_sync(request):
            raise PermissionDenied
        district = get_object_or_404(District, pk=pk)
        if district.status != District.Status.CONNECTED:
            self.message_user(
                request, f"{district} is not connected: nothing to sync.", messages.ERROR
            )
            return redirect("admin:rostering_district_change", district.pk)
        run = self._start(request, district)
        return redirect("admin:rostering_syncrun_change", run.pk)

    @method_decorator_post
    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Read the district's record from Clever with its token, and say what came back."""
        if not self._can_sync(request):
            raise PermissionDenied
        district = get_object_or_404(District, pk=pk)
        self._test(request, district)
        return redirect("admin:rostering_district_change", district.pk)

    def _test(self, request: HttpRequest, district: District) -> None:
        if district.source == District.Source.CSV:
            csv = getattr(district, "csv", None)
            if csv is None or not csv.fetches:
                self.message_user(
                    request, f"{district}: files arrive at our SFTP drop.", messages.INFO
                )
                return
            report = sftpfetch.csv_test_connection(csv=csv)
            level = messages.SUCCESS if report.ok else messages.ERROR
            self.message_user(request, f"{district}: " + " | ".join(report.lines()), level)
            return
        check = connections.district_test_connection(district=district)
        level = messages.SUCCESS if check.ok else messages.ERROR
        self.message_user(request, f"{district}: {check.message}", level)

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

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[District]) -> HttpResponse | None:
        districts = list(queryset.filter(status=District.Status.CONNECTED))
        skipped = queryset.count() - len(districts)
        if skipped:
            self.message_user(
                request, f"{skipped} district(s) not connected: not synced.", messages.WARNING
            )
        started = [(d, self._start(request, d)) for d in districts]
        if len(started) == 1:
            return redirect("admin:rostering_syncrun_change", started[0][1].pk)
        for district, run in started:
            url = reverse("admin:rostering_syncrun_change", args=[run.pk])
            self.message_user(
                request,
                format_html('{}: sync started, <a href="{}">run #{}</a>.', district, url, run.pk),
            )
        return None

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[District]) -> None:
        for district in queryset:
            self._test(request, district)


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


def _page_number(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """The run history; a run's page follows a running run live and reviews a held one."""

    list_display = (
        "id",
        "district",
        "trigger",
        "status_label",
        "dry_run",
        "created_at",
        "finished_at",
        "stopped_at",
        "short_error",
    )
    list_display_links = ("id", "status_label")
    list_filter = ("status", "trigger", "dry_run", "district")
    list_select_related = ("district",)
    search_fields = ("district__name", "district__clever_id", "error")
    date_hierarchy = "created_at"
    actions = ("approve", "discard")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("rostering.change_syncrun")

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj: SyncRun) -> str:
        return obj.get_status_display()

    @admin.display(description="Error")
    def short_error(self, obj: SyncRun) -> str:
        return obj.error[:120]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/live/", view(self.live_view), name="rostering_syncrun_live"),
            path(
                "<int:pk>/review/<str:action>/",
                view(self.review_view),
                name="rostering_syncrun_review",
            ),
            *super().get_urls(),
        ]

    def _run(self, request: HttpRequest, pk: Any) -> SyncRun:
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise Http404("No such run.") from None
        run = (
            SyncRun.objects.select_related("district", "requested_by", "reviewed_by")
            .filter(pk=pk)
            .first()
        )
        if run is None:
            raise Http404(f"No run #{pk}.")
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return run

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The run's page: live while it runs, then its outcome; a held run's records by name."""
        run = self._run(request, object_id)
        held = None
        if run.plan.get("archive"):
            held = selectors.held_page(
                run=run, query=request.GET.get("q", ""), page=_page_number(request)
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Run #{run.pk}: {run.district}",
            "opts": self.model._meta,
            "run": run,
            "view": runview.run_view(run),
            "held": held,
            "can_review": run.status == SyncRun.Status.NEEDS_REVIEW
            and request.user.has_perm("rostering.change_syncrun"),
            "errors": list(run.errors.order_by("pk")[:50]),
            "csv_files": list(run.csv_files.select_related("file")),
            "csv_notes": list(run.csv_notes.values_list("message", flat=True)),
        }
        return TemplateResponse(request, "admin/rostering/syncrun/run.html", context)

    def live_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The run's live block (htmx polls it); once the run has ended, the page reloads."""
        run = self._run(request, pk)
        view = runview.run_view(run)
        response = TemplateResponse(
            request, "admin/rostering/syncrun/_live.html", {"run": run, "view": view}
        )
        if not view.live and request.headers.get("HX-Request"):
            response["HX-Refresh"] = "true"
        return response

    def review_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        """Approve or discard a held run: GET says what will happen, POST does it."""
        if action not in ("approve", "discard"):
            raise Http404("No such review.")
        if not request.user.has_perm("rostering.change_syncrun"):
            raise PermissionDenied
        run = self._run(request, pk)
        page = reverse("admin:rostering_syncrun_change", args=[run.pk])
        if request.method == "POST":
            self._review(request, [run], approve=action == "approve")
            return redirect(page)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.capitalize()} run #{run.pk}?",
            "opts": self.model._meta,
            "run": run,
            "action": action,
            "view": runview.run_view(run),
            "held_lines": [
                f"{total} {name}{_names(names, total)}"
                for name, (names, total) in selectors.held_records(run=run, limit=10).items()
            ],
        }
        return TemplateResponse(request, "admin/rostering/syncrun/review.html", context)

    def _review(self, request: HttpRequest, queryset: Any, approve: bool) -> None:
        action: Any = services.sync_run_approve if approve else services.sync_run_discard
        for run in queryset:
            try:
                action(run=run, user=request.user)
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                verb = "approved: archives applied" if approve else "discarded: nothing archived"
                self.message_user(request, f"Run #{run.pk} {verb}.", messages.SUCCESS)

    @admin.action(description="Approve (apply the held archives)", permissions=["review"])
    def approve(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        self._review(request, queryset, approve=True)

    @admin.action(description="Discard (archive nothing)", permissions=["review"])
    def discard(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        self._review(request, queryset, approve=False)
