"""The /docs page's model: the OpenAPI document read as tables a person can use.

Every ``$ref`` becomes a link to the schema it names, every schema a table of its
fields (type, required, default, bounds, description), and each operation lists its
path and query parameters, its body, each answer with its fields, and examples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_PREFIX = "#/components/schemas/"
_BOUNDS = (("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
           ("minimum", ">= {}"), ("maximum", "<= {}"), ("pattern", "matches {}"),
           ("minItems", "at least {} items"), ("maxItems", "at most {} items"))


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # text; schema names appear as ``Name`` and are linked by the template
    refs: tuple[str, ...]  # the schema names in ``type``, for links
    required: bool
    notes: str  # default, bounds, enum values, description


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media: str
    type: str
    refs: tuple[str, ...]
    example: str
    fields: tuple[Field, ...]  # of an inline object (a named schema has its own table)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    secured: bool
    parameters: tuple[Field, ...]
    body_type: str
    body_refs: tuple[str, ...]
    body_example: str
    answers: tuple[Answer, ...]


def type_of(schema: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(readable type, the schema names it mentions)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(_PREFIX)
        return name, (name,)
    if "anyOf" in schema:
        parts = [type_of(s) for s in schema["anyOf"]]
        return " or ".join(p[0] for p in parts), tuple(r for p in parts for r in p[1])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"]), ()
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind), ()
    if kind == "array":
        inner, refs = type_of(schema.get("items", {}))
        return f"array of {inner}", refs
    if kind == "object" and "additionalProperties" in schema:
        inner, refs = type_of(schema["additionalProperties"] or {})
        return f"object of {inner}", refs
    return kind + (f" ({schema['format']})" if "format" in schema else ""), ()


def _notes(schema: dict[str, Any]) -> str:
    notes = [template.format(schema[key]) for key, template in _BOUNDS if key in schema]
    if "default" in schema:
        notes.append(f"default {json.dumps(schema['default'])}")
    if schema.get("description"):
        notes.append(schema["description"])
    return "; ".join(notes)


def fields(schema: dict[str, Any]) -> list[Field]:
    required = set(schema.get("required", ()))
    rows = []
    for name, sub in schema.get("properties", {}).items():
        kind, refs = type_of(sub)
        rows.append(Field(name, kind, refs, name in required, _notes(sub)))
    return rows


def _example(media: dict[str, Any]) -> str:
    """The example, or each named example under a comment line with its summary."""
    if "example" in media:
        return json.dumps(media["example"], indent=2, ensure_ascii=False)
    return "\n".join(f"// {name}: {given.get('summary', '')}".rstrip(": ") + "\n"
                     + json.dumps(given["value"], indent=2, ensure_ascii=False)
                     for name, given in media.get("examples", {}).items())


def operations(doc: dict[str, Any]) -> list[Operation]:
    found = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            params = tuple(Field(f"{p['name']} ({p['in']})", *type_of(p.get("schema", {})),
                                 p.get("required", False), p.get("description", ""))
                           for p in op.get("parameters", ()))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            body_type, body_refs = type_of(body["schema"]) if body else ("", ())
            answers = []
            for status, answer in op.get("responses", {}).items():
                no_media: tuple[str, dict[str, Any]] = ("", {})
                media_type, media = next(iter(answer.get("content", {}).items()), no_media)
                kind, refs = type_of(media["schema"]) if "schema" in media else ("", ())
                answers.append(Answer(status, answer.get("description", ""), media_type, kind,
                                      refs, _example(media),
                                      tuple(fields(media.get("schema", {})))))
            found.append(Operation(method.upper(), path, op.get("summary", ""),
                                   bool(op.get("security")), params, body_type, body_refs,
                                   _example(body), tuple(answers)))
    return found


def schemas(doc: dict[str, Any]) -> list[tuple[str, str, list[Field]]]:
    """(name, description, fields) of every component schema, by name."""
    return [(name, s.get("description", ""), fields(s))
            for name, s in sorted(doc["components"]["schemas"].items())]
