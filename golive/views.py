"""Ops pages for go-live: the checklist, the district list and its actions, the report."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from golive import checklist as checklist_steps
from golive import forms, logincheck, selectors, services
from golive.models import DistrictConnection
from golive.report import report_facts, report_markdown
from rostering.models import District

# Noting a district's go-live steps (request, invite, approve, decline, launch date, testers)
# needs this permission, not only staff status.
CHANGE_PERMISSION = "golive.change_districtconnection"

View = Callable[..., HttpResponse]


def staff_required(
    view: View | None = None, *, permission: str = ""
) -> View | Callable[[View], View]:
    """Anonymous visitors go to the login page; logged-in non-staff users (and staff without
    ``permission``, when given) get 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (request.user.is_active and request.user.is_staff):
                raise PermissionDenied("Go-live pages are for staff only.")
            if permission and not request.user.has_perm(permission):
                raise PermissionDenied(f"This action needs the {permission} permission.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


@require_GET
@staff_required
def checklist(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "golive/checklist.html",
        {"run": selectors.checklist_latest(), "steps": checklist_steps.STEP_TITLES},
    )


@require_POST
@staff_required
def recheck(request: HttpRequest) -> HttpResponse:
    run = services.checklist_run(by=request.user)
    if run.ready:
        messages.success(request, "Re-checked: every step passes. Ready to go live.")
    else:
        messages.warning(request, "Re-checked: some steps fail; see how to fix them below.")
    return redirect("golive:checklist")


@require_GET
@staff_required
def districts(request: HttpRequest) -> HttpResponse:
    can_change = request.user.has_perm(CHANGE_PERMISSION)
    return render(
        request,
        "golive/districts.html",
        {"rows": selectors.district_rows(), "can_change": can_change},
    )


def _act(
    request: HttpRequest,
    form: django_forms.Form | None,
    action: Callable[..., str],
    *,
    back: str = "",
) -> HttpResponse:
    """Run one service with the form's data; report success or the refusal as a message, then
    go back to the district list (or ``back``)."""
    back = back or reverse("golive:districts")
    if form is not None and not form.is_valid():
        messages.error(request, forms.first_error(form))
        return redirect(back)
    try:
        result = action(**(form.cleaned_data if form is not None else {}))
    except services.GoLiveError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, result)
    return redirect(back)


def _row_or_back(request: HttpRequest, clever_id: str) -> selectors.DistrictRow | HttpResponse:
    """The district's row for an action page, or back to the list saying it is unknown."""
    row = selectors.district_row(clever_district_id=clever_id)
    if row is None or row.broken:
        messages.error(
            request, f"No district {clever_id} has asked to connect, been invited or connected."
        )
        return redirect("golive:districts")
    return row


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_request(request: HttpRequest) -> HttpResponse:
    def action(*, clever_district_id: str, name: str, note: str) -> str:
        c = services.connection_request_record(
            clever_district_id=clever_district_id, name=name, note=note, by=request.user
        )
        return (
            f"Recorded {c}'s request to connect. Approve or decline it in Clever's dashboard "
            "(Pending Requests), then note it here."
        )

    return _act(request, forms.RequestForm(request.POST), action)


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_invite(request: HttpRequest) -> HttpResponse:
    def action(*, clever_district_id: str, name: str, launch_date) -> str:
        c = services.connection_invite(
            clever_district_id=clever_district_id,
            name=name,
            launch_date=launch_date,
            by=request.user,
        )
        return (
            f"Noted: {c} invited from Clever's dashboard. It shows as connected once it accepts "
            "and its token appears in Clever's token list (at the next token refresh)."
        )

    return _act(request, forms.InviteForm(request.POST), action)


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_approve(request: HttpRequest, clever_id: str) -> HttpResponse:
    def action() -> str:
        c = services.connection_approve(clever_district_id=clever_id, by=request.user)
        return (
            f"Noted: {c}'s request approved in Clever's dashboard. It connects when its token "
            "appears in Clever's token list (at the next token refresh, before each nightly "
            "sync); then it shows as connected and its data syncs."
        )

    return _act(request, None, action)


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_decline(request: HttpRequest, clever_id: str) -> HttpResponse:
    def action(*, reason: str) -> str:
        c = services.connection_decline(
            clever_district_id=clever_id, by=request.user, reason=reason
        )
        return f"Noted: {c}'s request declined in Clever's dashboard."

    return _act(request, forms.DeclineForm(request.POST), action)


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_schedule(request: HttpRequest, clever_id: str) -> HttpResponse:
    def action(*, launch_date) -> str:
        c = services.connection_schedule_launch(
            clever_district_id=clever_id, launch_date=launch_date, by=request.user
        )
        note = selectors.launch_note(clever_district_id=c.clever_district_id)
        return f"Noted {c}'s launch date in Clever: {c.launch_date:%Y-%m-%d}. {note}"

    return _act(request, forms.ScheduleForm(request.POST), action)


@require_http_methods(["GET", "POST"])
@staff_required(permission=CHANGE_PERMISSION)
def district_launch(request: HttpRequest, clever_id: str) -> HttpResponse:
    """GET: what noting a launch today does, to confirm; POST: note it."""
    if request.method == "GET":
        row = _row_or_back(request, clever_id)
        if isinstance(row, HttpResponse):
            return row
        if not row.can_launch_now:
            messages.error(
                request,
                f"{row.name} is {row.state_label.lower()}: only a connected district that has "
                "not launched can be marked launched.",
            )
            return redirect("golive:districts")
        return render(request, "golive/launch_confirm.html", {"row": row})

    def action() -> str:
        c = services.connection_launch_now(clever_district_id=clever_id, by=request.user)
        note = selectors.launch_note(clever_district_id=c.clever_district_id)
        return f"Noted: {c} launched in Clever's dashboard today. {note}"

    return _act(request, None, action)


@require_http_methods(["GET", "POST"])
@staff_required(permission=CHANGE_PERMISSION)
def district_launch_undo(request: HttpRequest, clever_id: str) -> HttpResponse:
    """GET: what taking back the launch note does, to confirm; POST: take it back."""
    if request.method == "GET":
        row = _row_or_back(request, clever_id)
        if isinstance(row, HttpResponse):
            return row
        if not row.can_undo_launch:
            messages.error(
                request,
                f"{row.name} has no launch noted here that can be taken back"
                + (
                    f": it launched in Clever on {row.clever_launch_date:%Y-%m-%d} (Clever's "
                    "launch date), which only Clever support can undo."
                    if row.launch_from_clever and row.state == "launched"
                    else "."
                ),
            )
            return redirect("golive:districts")
        connection = DistrictConnection.objects.get(clever_district_id=clever_id)
        return render(
            request,
            "golive/launch_undo_confirm.html",
            {"row": row, "connection": connection},
        )

    def action() -> str:
        c = services.connection_launch_undo(clever_district_id=clever_id, by=request.user)
        restored = (
            f" The launch date noted before, {c.launch_date:%Y-%m-%d}, is back."
            if c.launch_date
            else ""
        )
        return (
            f"Took back the launch noted for {c}: Clever's dashboard is unchanged.{restored} "
            + selectors.launch_note(clever_district_id=c.clever_district_id)
        )

    return _act(request, None, action)


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_decline_undo(request: HttpRequest, clever_id: str) -> HttpResponse:
    def action() -> str:
        c = services.connection_decline_undo(clever_district_id=clever_id, by=request.user)
        return (
            f"Took back the decline: {c}'s request shows pending again. If it was declined in "
            "Clever's dashboard, the district has to ask again there."
        )

    return _act(request, None, action)


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_approve_undo(request: HttpRequest, clever_id: str) -> HttpResponse:
    def action() -> str:
        c = services.connection_approve_undo(clever_district_id=clever_id, by=request.user)
        return (
            f"Took back the approval: {c}'s request shows pending again. If it was approved in "
            "Clever's dashboard, Clever connects it anyway, and it shows connected at the next "
            "token refresh."
        )

    return _act(request, None, action)


@require_GET
@staff_required
def district_testers(request: HttpRequest, clever_id: str) -> HttpResponse:
    """A district's launch testers by name, and a search of its synced users to add one."""
    row = _row_or_back(request, clever_id)
    if isinstance(row, HttpResponse):
        return row
    testers = selectors.launch_testers(clever_district_id=clever_id)
    query = request.GET.get("q", "").strip()[:100]
    found, more = [], False
    district = District.objects.filter(clever_id=clever_id).first()
    if query and district is not None and row.can_add_tester:
        found, more = selectors.tester_search(
            district=district, query=query, exclude={t.clever_user_id for t in testers}
        )
    return render(
        request,
        "golive/testers.html",
        {
            "row": row,
            "testers": testers,
            "q": query,
            "found": found,
            "more": more,
            "can_change": request.user.has_perm(CHANGE_PERMISSION),
        },
    )


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_tester_add(request: HttpRequest, clever_id: str) -> HttpResponse:
    def action(*, clever_user_id: str, note: str) -> str:
        t = services.launch_tester_add(
            clever_district_id=clever_id, clever_user_id=clever_user_id, note=note, by=request.user
        )
        name = _tester_name(clever_id, t.clever_user_id)
        return f"{name} may log in before launch (a launch tester of {t.connection})."

    back = reverse("golive:district_testers", args=[clever_id])
    return _act(request, forms.TesterForm(request.POST), action, back=back)


@require_POST
@staff_required(permission=CHANGE_PERMISSION)
def district_tester_remove(request: HttpRequest, clever_id: str) -> HttpResponse:
    def action(*, clever_user_id: str) -> str:
        name = _tester_name(clever_id, clever_user_id)
        services.launch_tester_remove(
            clever_district_id=clever_id, clever_user_id=clever_user_id, by=request.user
        )
        return f"{name} is no longer a launch tester: they log in when the district launches."

    back = reverse("golive:district_testers", args=[clever_id])
    return _act(request, forms.TesterRemoveForm(request.POST), action, back=back)


def _tester_name(clever_district_id: str, clever_user_id: str) -> str:
    tester = next(
        (
            t
            for t in selectors.launch_testers(clever_district_id=clever_district_id)
            if t.clever_user_id == clever_user_id
        ),
        None,
    )
    return tester.name if tester else f"Clever user {clever_user_id}"


@require_GET
@staff_required
def report(request: HttpRequest) -> HttpResponse:
    return render(request, "golive/report.html", {"f": report_facts()})


@require_GET
@staff_required
def report_md(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        report_markdown(report_facts()), content_type="text/markdown; charset=utf-8"
    )


@require_GET
@staff_required
def login_check(request: HttpRequest, user_id: int) -> HttpResponse:
    """What this person's next Clever login would do, and their last logins."""
    person = get_object_or_404(User.objects.select_related("district"), pk=user_id)
    return render(
        request,
        "golive/login_check.html",
        {
            "person": person,
            "check": logincheck.login_check(user=person),
            "keep_days": settings.CLEVER_LOGIN_REFUSALS_KEEP_DAYS,
        },
    )
