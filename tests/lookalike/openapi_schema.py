"""Clever's Swagger 2.0 definitions translated to JSON Schema, strict enough to fail.

Translation rules: ``$ref`` resolves to the definition; ``x-nullable: true`` means "may be null";
every object definition with properties gets ``additionalProperties: false`` (an unknown field
fails); ``allOf`` is merged into one object; ``Event`` (``discriminator: type``) validates as the
definition named by the event's ``type``. A bare ``{type: object}`` as a map's value schema
(``previous_attributes``) is Go's ``interface{}`` in Clever's generator: any JSON value.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from jsonschema import Draft7Validator

SPEC_DIR = Path(settings.BASE_DIR).parent / "shared" / "clever" / "openapi"


def _convert(node: Any, *, as_map_value: bool = False) -> Any:
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    nullable = bool(node.get("x-nullable"))
    if "$ref" in node:
        out: dict[str, Any] = {"$ref": node["$ref"]}
    elif "allOf" in node:
        out = _merge_all_of(node["allOf"])
    else:
        out = {}
        for key, value in node.items():
            if key.startswith("x-") or key in ("discriminator", "format"):
                continue
            if key == "properties":
                out[key] = {name: _convert(prop) for name, prop in value.items()}
            elif key == "additionalProperties" and isinstance(value, dict):
                out[key] = _convert(value, as_map_value=True)
            else:
                out[key] = _convert(value)
        if as_map_value and out == {"type": "object"}:
            out = {}
        if "properties" in out:
            out.setdefault("type", "object")
            out.setdefault("additionalProperties", False)
    if nullable:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _merge_all_of(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    required: list[str] = []
    for part in parts:
        if "$ref" in part:
            part = _RAW_DEFS[part["$ref"].rsplit("/", 1)[1]]
        for name, prop in part.get("properties", {}).items():
            merged["properties"][name] = _convert(prop)
        required += part.get("required", [])
    if required:
        merged["required"] = required
    return merged


_RAW_DEFS: dict[str, Any] = {}


@functools.cache
def load_definitions(spec_file: str) -> dict[str, Any]:
    """The translated definitions of one spec file (``v3.0.yml`` or ``v3.0-events.yml``)."""
    raw = yaml.safe_load((SPEC_DIR / spec_file).read_text(encoding="utf-8"))["definitions"]
    _RAW_DEFS.clear()
    _RAW_DEFS.update(raw)
    defs = {name: _convert(schema) for name, schema in raw.items()}
    subtypes = [name for name, schema in raw.items() if _extends(schema, "Event")]
    if subtypes:
        branches = []
        for name in subtypes:
            branch = dict(defs[name])
            branch["properties"] = {**branch["properties"], "type": {"const": name}}
            branches.append(branch)
        defs["Event"] = {"oneOf": branches}
    return defs


def _extends(schema: dict[str, Any], base: str) -> bool:
    return any(p.get("$ref") == f"#/definitions/{base}" for p in schema.get("allOf", []))


@functools.cache
def validator(spec_file: str, definition: str) -> Draft7Validator:
    """A validator for one definition of one spec file."""
    defs = load_definitions(spec_file)
    return Draft7Validator({"$ref": f"#/definitions/{definition}", "definitions": defs})


def problems(spec_file: str, definition: str, document: Any) -> list[str]:
    """Every way ``document`` breaks ``definition`` (empty when it conforms)."""
    found = validator(spec_file, definition).iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found]
