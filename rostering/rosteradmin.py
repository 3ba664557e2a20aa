"""The support view of the roster: schools, terms, courses, sections (teachers in order, then
students) and enrolments, read-only (the sync owns them), searchable and filtered by district,
school, term and archived; and a user's page with their roles, schools, sections and contacts.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.forms import TextInput
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import UserAdmin
from accounts.models import User
from rostering import selectors
from rostering.models import Course, School, Section, SectionStudent, SectionTeacher, Term


class ArchivedFilter(admin.SimpleListFilter):
    """Live (Clever shares it) or archived (Clever stopped sharing it; kept, never deleted)."""

    title = "archived"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Live"), ("yes", "Archived")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Synced data: viewed here, changed only by the sync."""

    list_per_page = 50
    show_full_result_count = False  # a count of a million rows per page view is not worth it

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The synced rows an account or a district takes with it when deleted in the admin (a
# deliberate outcome, which the certification report states): their read-only pages do not
# stand in the way.
CASCADED = frozenset(
    str(m._meta.verbose_name)
    for m in (School, Term, Course, Section, SectionStudent, SectionTeacher)
)


def deletion_without_roster_perms(result: tuple[Any, Any, set[str], Any]) -> tuple[Any, ...]:
    """Django's get_deleted_objects answer, not asking for permission on synced roster rows."""
    deleted, counts, perms_needed, protected = result
    return deleted, counts, perms_needed - CASCADED, protected


def _state(obj: Any) -> str:
    if obj.archived_at is None:
        return "live"
    return f"archived {obj.archived_at:%Y-%m-%d %H:%M} UTC"


def _user_link(user: User) -> str:
    url = reverse("admin:accounts_user_change", args=[user.pk])
    return format_html('<a href="{}">{}</a>', url, user.display_name or user.clever_id)


@admin.register(School)
class SchoolAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "district",
        "sis_id",
        "school_number",
        "low_grade",
        "high_grade",
        "state",
    )
    list_filter = (ArchivedFilter, "district")
    list_select_related = ("district",)
    search_fields = ("name", "clever_id", "sis_id", "school_number")
    exclude = ("sync_digest",)

    @admin.display(description="State", ordering="archived_at")
    def state(self, obj: School) -> str:
        return _state(obj)


@admin.register(Term)
class TermAdmin(ReadOnlyAdmin):
    list_display = ("name", "district", "start_date", "end_date", "state")
    list_filter = (ArchivedFilter, "district")
    list_select_related = ("district",)
    search_fields = ("name", "clever_id")
    exclude = ("sync_digest",)

    @admin.display(description="State", ordering="archived_at")
    def state(self, obj: Term) -> str:
        return _state(obj)


@admin.register(Course)
class CourseAdmin(ReadOnlyAdmin):
    list_display = ("name", "number", "district", "state")
    list_filter = (ArchivedFilter, "district")
    list_select_related = ("district",)
    search_fields = ("name", "number", "clever_id")
    exclude = ("sync_digest",)

    @admin.display(description="State", ordering="archived_at")
    def state(self, obj: Course) -> str:
        return _state(obj)


class _MemberInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Person")
    def person(self, obj: Any) -> str:
        return _user_link(obj.user)

    @admin.display(description="State")
    def state(self, obj: Any) -> str:
        return _state(obj)


class SectionTeacherInline(_MemberInline):
    """Teachers in order: position 0 is the primary teacher."""

    model = SectionTeacher
    fields = ("position", "person", "state")
    readonly_fields = fields
    verbose_name = "teacher"
    verbose_name_plural = "Teachers (primary first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user").order_by("position", "pk")


class SectionStudentInline(_MemberInline):
    model = SectionStudent
    fields = ("person", "state")
    readonly_fields = fields
    verbose_name = "student"
    verbose_name_plural = "Students"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .order_by("user__last_name", "user__first_name", "pk")
        )


@admin.register(Section)
class SectionAdmin(ReadOnlyAdmin):
    list_display = ("name", "school", "term", "course", "grade", "period", "district", "state")
    list_filter = (
        ArchivedFilter,
        "district",
        ("school", admin.RelatedOnlyFieldListFilter),
        ("term", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("district", "school", "term", "course")
    search_fields = ("name", "clever_id", "sis_id", "section_number", "subject")
    exclude = ("sync_digest",)
    inlines = (SectionTeacherInline, SectionStudentInline)

    @admin.display(description="State", ordering="archived_at")
    def state(self, obj: Section) -> str:
        return _state(obj)


@admin.register(SectionStudent)
class EnrollmentAdmin(ReadOnlyAdmin):
    """Who is in which section: the first place to look when a student cannot see a class."""

    list_display = ("student", "section", "school", "term", "state")
    list_filter = (
        ArchivedFilter,
        ("section__district", admin.RelatedOnlyFieldListFilter),
        ("section__school", admin.RelatedOnlyFieldListFilter),
        ("section__term", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("user", "section__school", "section__term")
    search_fields = (
        "user__first_name",
        "user__last_name",
        "user__preferred_name",
        "user__clever_id",
        "section__name",
        "section__clever_id",
    )
    fields = ("student", "section", "school", "term", "state", "created_at", "last_seen_run")
    readonly_fields = fields

    @admin.display(description="Student", ordering="user__last_name")
    def student(self, obj: SectionStudent) -> str:
        return _user_link(obj.user)

    @admin.display(description="School")
    def school(self, obj: SectionStudent) -> Any:
        return obj.section.school

    @admin.display(description="Term")
    def term(self, obj: SectionStudent) -> Any:
        return obj.section.term

    @admin.display(description="State", ordering="archived_at")
    def state(self, obj: SectionStudent) -> str:
        return _state(obj)


admin.site.unregister(User)


@admin.register(User)
class RosterUserAdmin(UserAdmin):
    """A user's page: who they are in the roster (roles, schools, sections, contacts), how their
    account was matched, their sync history, and a link to what their next login would do."""

    change_form_template = "admin/accounts/user/change_form.html"
    list_display = ("name", "username", "source", "district", "archived_at")
    list_select_related = ("district",)
    formfield_overrides = {models.TextField: {"widget": TextInput(attrs={"size": 40})}}

    @admin.display(description="Name", ordering="last_name")
    def name(self, obj: User) -> str:
        return obj.display_name or obj.username

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        return deletion_without_roster_perms(super().get_deleted_objects(objs, request))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        sets = super().get_fieldsets(request, obj)
        # The digest is the sync's own bookkeeping: nothing for ops to read.
        return [
            (title, {**opts, "fields": tuple(f for f in opts["fields"] if f != "sync_digest")})
            for title, opts in sets
        ]

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any,
                           **kwargs: Any) -> HttpResponse:  # fmt: skip
        obj = kwargs.get("obj")
        if obj is not None:
            context["roster"] = selectors.user_roster(user=obj)
        return super().render_change_form(request, context, *args, **kwargs)
