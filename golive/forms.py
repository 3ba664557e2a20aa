"""Ops input for district connections, parsed with errors that name the problem."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

DATE_ERROR = "%(value)r is not a date: use YYYY-MM-DD, e.g. 2026-12-01."


class LaunchDateField(forms.DateField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=["%Y-%m-%d"], **kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(DATE_ERROR, params={"value": value}) from exc


class RequestForm(forms.Form):
    clever_district_id = forms.CharField(label="Clever district id", max_length=64)
    name = forms.CharField(label="District name", max_length=200)
    note = forms.CharField(label="Note", required=False, max_length=2000)


class InviteForm(forms.Form):
    clever_district_id = forms.CharField(label="Clever district id", max_length=64)
    name = forms.CharField(label="District name", max_length=200)
    launch_date = LaunchDateField(label="Launch date", required=False)


class ScheduleForm(forms.Form):
    launch_date = LaunchDateField(label="Launch date")


class DeclineForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=2000)


class TesterForm(forms.Form):
    # Posted by the "Add" button of a person found by name (the page never asks for an id).
    clever_user_id = forms.CharField(label="Tester", max_length=64)
    note = forms.CharField(label="Note", required=False, max_length=200)


class TesterRemoveForm(forms.Form):
    clever_user_id = forms.CharField(label="Tester", max_length=64)


def first_error(form: forms.Form) -> str:
    """The form's first error, prefixed with the field's label."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return ""
