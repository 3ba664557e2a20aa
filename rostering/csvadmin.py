"""Operations for CSV districts: drop login, fetch server, Run now, schedules, zip upload,
the history of runs with the files each read (downloadable) and their per-file counts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from rostering import background, csvfiles, csvservices, sftpfetch
from rostering.models import CsvDistrict, CsvFile, CsvSchedule, SyncRun

HISTORY_RUNS = 20


class CsvDistrictForm(forms.ModelForm):
    """The district's settings; secrets are write-only (blank keeps what is held)."""

    fetch_password = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="blank: keep the one held"
    )
    fetch_private_key = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="blank: keep"
    )
    new_drop_password = forms.BooleanField(
        required=False, help_text="generate a new SFTP drop password (shown once)"
    )

    class Meta:
        model = CsvDistrict
        fields = ("authorized_keys", "fetch_host", "fetch_port", "fetch_username", "fetch_folder")

    def clean_fetch_host(self) -> str:
        value = self.cleaned_data["fetch_host"].strip()
        return value.removeprefix("sftp://").rstrip("/")


class CsvScheduleForm(forms.ModelForm):
    class Meta:
        model = CsvSchedule
        fields = ("kind", "at")
        help_texts = {"at": "once: that time; hourly: its minute; daily: its time (UTC)"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("kind") == CsvSchedule.Kind.ONCE
            and data.get("at")
            and (data["at"] <= timezone.now())
        ):
            raise forms.ValidationError("A one-off run must be at a future time.")
        return data


class CsvScheduleInline(admin.TabularInline):
    """Pending schedules: editable and removable until they start."""

    model = CsvSchedule
    form = CsvScheduleForm
    fields = ("kind", "at", "next_run_at")
    readonly_fields = ("next_run_at",)
    extra = 0
    verbose_name = "pending run (schedule)"
    verbose_name_plural = "pending runs (schedules)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CsvSchedule]:
        return super().get_queryset(request).filter(next_run_at__isnull=False)


class ZipForm(forms.Form):
    zip_file = forms.FileField(label="Zip of the CSV files")


def _run_row(run: SyncRun) -> tuple[Any, ...]:
    files = format_html_join(
        "",
        '<div><a href="{}">{}</a> {} bytes, {} UTC: read {}, applied {}, skipped {}</div>',
        (
            (
                reverse("admin:rostering_csvdistrict_file", args=[e.file.pk]),
                e.file.name,
                e.file.size,
                e.file.received_at.strftime("%Y-%m-%d %H:%M"),
                e.rows_read,
                e.rows_applied,
                e.rows_skipped,
            )
            for e in run.csv_files.all()
        ),
    )
    notes = format_html_join("", "<div>{}</div>", ((n.message,) for n in run.csv_notes.all()))
    errors = format_html_join("", "<div>{}</div>", ((e.message,) for e in run.errors.all()[:50]))
    return (
        reverse("admin:rostering_syncrun_change", args=[run.pk]),
        run.pk,
        run.get_status_display(),
        run.created_at.strftime("%Y-%m-%d %H:%M"),
        run.error[:500] if run.error else "",
        files,
        notes,
        errors,
    )


@admin.register(CsvDistrict)
class CsvDistrictAdmin(admin.ModelAdmin):
    form = CsvDistrictForm
    change_form_template = "admin/rostering/csvdistrict/change_form.html"
    list_display = ("key", "district", "way", "files_pending", "last_activity_at")
    search_fields = ("key", "district__name")
    readonly_fields = ("key", "district", "drop_login", "history")
    inlines = (CsvScheduleInline,)
    actions = ("run_now", "test_connection")
    fieldsets = (
        (None, {"fields": ("key", "district", "drop_login", "authorized_keys")}),
        (
            "Fetch from the district's SFTP server (leave the host blank to use our drop)",
            {
                "fields": (
                    "fetch_host",
                    "fetch_port",
                    "fetch_username",
                    "fetch_password",
                    "fetch_private_key",
                    "fetch_folder",
                )
            },
        ),
        ("Drop password", {"fields": ("new_drop_password",)}),
        ("History", {"fields": ("history",)}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # python manage.py csv_district_add KEY --name NAME

    @admin.display(description="Files from")
    def way(self, obj: CsvDistrict) -> str:
        return f"sftp://{obj.fetch_host}" if obj.fetches else "our SFTP drop"

    @admin.display(description="SFTP drop login")
    def drop_login(self, obj: CsvDistrict) -> str:
        if obj.fetches:
            return "- (files are fetched)"
        return format_html(
            "sftp -P {} {}@{} (password {}; authorized key {})",
            settings.SFTP_PUBLIC_PORT,
            obj.key,
            settings.SFTP_PUBLIC_HOST,
            "set" if obj.sftp_password_hash else "none",
            "set" if obj.authorized_keys else "none",
        )

    @admin.display(description="Runs (newest first)")
    def history(self, obj: CsvDistrict) -> str:
        pending = format_html_join(
            "",
            "<tr><td>-</td><td>Pending</td><td>{} UTC</td><td>{}</td><td></td><td></td>"
            "<td></td></tr>",
            (
                (s.next_run_at.strftime("%Y-%m-%d %H:%M"), s.get_kind_display())
                for s in obj.schedules.filter(next_run_at__isnull=False)
            ),
        )
        runs = obj.district.sync_runs.prefetch_related(
            "csv_files__file", "csv_notes", "errors"
        ).order_by("-created_at")[:HISTORY_RUNS]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{} UTC</td><td>{}</td>'
            '<td class="files">{}</td><td>{}</td><td>{}</td></tr>',
            (_run_row(run) for run in runs),
        )
        return format_html(
            '<table class="csv-history"><thead><tr><th>Run</th><th>Status</th><th>When</th>'
            "<th>Error</th><th>Files</th><th>Notes</th><th>Row errors</th></tr></thead>"
            "<tbody>{}{}</tbody></table>",
            pending,
            rows,
        )

    def save_model(self, request: HttpRequest, obj: CsvDistrict, form: Any, change: bool) -> None:
        data = form.cleaned_data
        password, key = data.get("fetch_password"), data.get("fetch_private_key")
        if password or key:
            obj.set_fetch_secrets(password=password or "", private_key=key or "")
        if "fetch_host" in form.changed_data or "fetch_port" in form.changed_data:
            obj.fetch_host_key = ""
        super().save_model(request, obj, form, change)
        if data.get("new_drop_password"):
            added = csvservices.csv_district_add(key=obj.key, name="", new_password=True)
            self.message_user(
                request,
                f"New SFTP drop password for {obj.key}: {added.password} (shown once).",
                messages.WARNING,
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not CsvSchedule:
            return super().save_formset(request, form, formset, change)
        for sub in formset.deleted_forms:
            if sub.instance.pk:
                csvservices.csv_schedule_remove(schedule=sub.instance)
        for sub in formset.forms:
            if sub in formset.deleted_forms or not sub.has_changed():
                continue
            csvservices.csv_schedule_save(
                csv=form.instance,
                kind=sub.cleaned_data["kind"],
                at=sub.cleaned_data["at"],
                schedule=sub.instance if sub.instance.pk else None,
            )
        # What the admin's change message reads; the service did the saving.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        return None

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any,
                           **kwargs: Any) -> HttpResponse:  # fmt: skip
        obj = kwargs.get("obj")
        context["csv_running"] = bool(
            obj and obj.district.sync_runs.filter(status=SyncRun.Status.RUNNING).exists()
        )
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.action(description="Run now")
    def run_now(self, request: HttpRequest, queryset: QuerySet[CsvDistrict]) -> HttpResponse | None:
        started = [
            (csv, background.district_run_start(district=csv.district, requested_by=request.user))
            for csv in queryset.select_related("district")
        ]
        if len(started) == 1:
            return redirect("admin:rostering_syncrun_change", started[0][1].pk)
        for csv, run in started:
            url = reverse("admin:rostering_syncrun_change", args=[run.pk])
            self.message_user(
                request, format_html('{}: run started, <a href="{}">run #{}</a>.', csv, url, run.pk)
            )
        return None

    @admin.action(description="Test connection (fetch server)")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[CsvDistrict]) -> None:
        for csv in queryset:
            if not csv.fetches:
                self.message_user(request, f"{csv.key}: uses our SFTP drop.", messages.INFO)
                continue
            report = sftpfetch.csv_test_connection(csv=csv)
            level = messages.SUCCESS if report.ok else messages.ERROR
            self.message_user(request, f"{csv.key}: " + " | ".join(report.lines()), level)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/upload/", view(self.upload_view), name="rostering_csvdistrict_upload"),
            path("file/<int:pk>/", view(self.file_view), name="rostering_csvdistrict_file"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        csv = get_object_or_404(CsvDistrict.objects.select_related("district"), pk=pk)
        if not self.has_change_permission(request, csv):
            raise Http404
        form = ZipForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                files = csvfiles.csv_zip_receive(
                    district=csv.district, upload=form.cleaned_data["zip_file"]
                )
            except csvfiles.CsvFilesError as exc:
                form.add_error("zip_file", str(exc))
            else:
                run = background.district_run_start(
                    district=csv.district,
                    requested_by=request.user,
                    file_ids=[f.pk for f in files],
                )
                names = ", ".join(f.name for f in files)
                self.message_user(request, f"Received {names}; run #{run.pk} is starting.")
                return redirect("admin:rostering_syncrun_change", run.pk)
        context = {**self.admin_site.each_context(request), "form": form, "csv": csv,
                   "title": f"Upload files for {csv.key}"}  # fmt: skip
        return TemplateResponse(request, "admin/rostering/csvdistrict/upload.html", context)

    def file_view(self, request: HttpRequest, pk: int) -> FileResponse:
        file = get_object_or_404(CsvFile, pk=pk)
        if not self.has_view_permission(request):
            raise Http404
        return FileResponse(csvfiles.csv_file_open(file), as_attachment=True, filename=file.name)
