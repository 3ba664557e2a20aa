from __future__ import annotations

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from golive.models import (
    ChecklistRun,
    CheckResult,
    DistrictConnection,
    LaunchTester,
    launch_of,
    state_label,
)
from rostering.models import District

State = DistrictConnection.State
# The stored state is ops' note of a step taken in Clever's dashboard, not Clever's own state.
NOTED = {
    State.REQUESTED: "a request to connect (Clever's Pending Requests)",
    State.INVITED: "an invitation sent from Clever's dashboard",
    State.CONNECTED: "the request approved in Clever's dashboard",
    State.LAUNCHED: "a launch in Clever's dashboard",
    State.DECLINED: "the request declined in Clever's dashboard",
    State.DISCONNECTED: "a disconnection",
}
# What the admin says of every go-live step: they are done in Clever's dashboard.
DONE_IN_CLEVER = (
    "Approving a request, inviting a district and launching it are done in Clever's dashboard; "
    "these rows are ops' notes of them (use the Districts page under /golive/districts/ to note "
    "them) and connect or launch nothing. A district connects when its token appears in "
    "Clever's token list (at the next token refresh); Clever's launch date appears at the next "
    "sync or token refresh, and logins follow it. While Clever's launch date has never been "
    "read, our launch date decides."
)


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    extra = 0
    can_delete = False
    fields = ("position", "title", "status", "summary", "fix")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChecklistRun)
class ChecklistRunAdmin(admin.ModelAdmin):
    list_display = ("checked_at", "ready", "checked_by")
    readonly_fields = ("checked_at", "ready", "checked_by")
    inlines = [CheckResultInline]

    def has_add_permission(self, request) -> bool:
        return False


class LaunchTesterInline(admin.TabularInline):
    """Listed (and removable) here; added on the district's testers page, picked by name from
    its synced users (golive.services.launch_tester_add checks they are one)."""

    model = LaunchTester
    extra = 0
    fields = ("clever_user_id", "note", "added_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DistrictConnection)
class DistrictConnectionAdmin(admin.ModelAdmin):
    """Read-mostly: ops' notes change through the Districts page (golive.services)."""

    list_display = (
        "name",
        "clever_district_id",
        "go_live_state",
        "clever_launch_date",
        "our_launch_date",
    )
    # No filter on the stored ``state``: it is ops' note ("connected" for an approved request
    # Clever may not have connected yet), and a filter labelled "Connected" would claim more.
    search_fields = ("name", "clever_district_id")
    readonly_fields = (
        "clever_district_id",
        "district",
        "go_live_state",
        "clever_launch_date",
        "our_launch_date",
        "noted",
        "launched_at",
        "launched_by",
        "requested_at",
        "invited_at",
        "decided_at",
        "decided_by",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {
                "description": DONE_IN_CLEVER,
                "fields": ("name", "clever_district_id", "district", "note"),
            },
        ),
        (
            "Launch",
            {"fields": ("go_live_state", "clever_launch_date", "our_launch_date")},
        ),
        (
            "Ops' notes",
            {
                "fields": (
                    "noted",
                    "requested_at",
                    "invited_at",
                    "decided_at",
                    "decided_by",
                    "launched_at",
                    "launched_by",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    inlines = [LaunchTesterInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DistrictConnection]:
        # The district Clever's token list holds under this Clever ID (the foreign key is filled
        # only once an ops action touched it), in the same query.
        district = District.objects.filter(clever_id=OuterRef("clever_district_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                _district_pk=Subquery(district.values("pk")[:1]),
                _district_status=Subquery(district.values("status")[:1]),
                _clever_launch_date=Subquery(district.values("clever_launch_date")[:1]),
            )
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(
            request, {**(extra_context or {}), "done_in_clever": DONE_IN_CLEVER}
        )

    def _district(self, obj: DistrictConnection) -> District | None:
        if getattr(obj, "_district_pk", None) is None:
            return None
        return District(
            pk=obj._district_pk,
            clever_id=obj.clever_district_id,
            status=obj._district_status,
            clever_launch_date=obj._clever_launch_date,
        )

    @admin.display(description="Go-live state (as Clever says)")
    def go_live_state(self, obj: DistrictConnection) -> str:
        return state_label(
            obj.effective_state(today=timezone.localdate(), district=self._district(obj))
        )

    @admin.display(description="Ops noted")
    def noted(self, obj: DistrictConnection) -> str:
        return NOTED.get(obj.state, obj.state)

    @admin.display(description="Clever's launch date")
    def clever_launch_date(self, obj: DistrictConnection) -> str:
        district = self._district(obj)
        if district is None:
            return "not connected in Clever yet"
        if district.clever_launch_date is None:
            return "not read from Clever yet (our launch date decides until it is)"
        return f"{district.clever_launch_date:%Y-%m-%d} (logins follow it)"

    @admin.display(description="Our launch date (a note)")
    def our_launch_date(self, obj: DistrictConnection) -> str:
        if obj.launch_date is None:
            return "-"
        launch = launch_of(district=self._district(obj), connection=obj, today=timezone.localdate())
        if launch.from_clever and launch.date != obj.launch_date:
            return f"{obj.launch_date:%Y-%m-%d} (differs from Clever's {launch.date:%Y-%m-%d})"
        return f"{obj.launch_date:%Y-%m-%d}"

    def has_add_permission(self, request) -> bool:
        return False
