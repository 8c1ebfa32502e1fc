"""What a state file may hold, checked against a JSON Schema before any of it is used.

A state file is read back into plans (the write-only values it remembers are compared with the
files), so a hand-edited or damaged one must not turn into a value shown in a diff: a `status`
outside the API's enum, or `contacts` that are not a list of distinct positive integers, is an
error naming the record. The per-field rules are the opportunity schema's own (`status` and
`contacts` in `schemas/opportunity.schema.json`), so the two cannot disagree. Keys other than
the known ones are allowed at the top level (newer versions add sections) but not inside a
record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from reconciler.fields import MATCH_FIELDS
from reconciler.schema import load_schema

_MAX_SHOWN = 5


@functools.cache
def state_schema() -> dict[str, Any]:
    fields = load_schema()["properties"]
    record = {
        "type": "object",
        "properties": {"status": fields["status"], "contacts": fields["contacts"]},
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["format_version"],
        "properties": {
            "format_version": {"type": "string"},
            "api_url": {"type": ["string", "null"]},
            "records": {
                "type": "object",
                "propertyNames": {"pattern": "^[0-9]+$"},
                "additionalProperties": record,
            },
            "live_total": {"type": ["integer", "null"], "minimum": 0},
            "managed": {
                "type": "object",
                "propertyNames": {"pattern": "^[0-9]+$"},
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "pending_creates": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["digest", "match_by", "value"],
                    "properties": {
                        "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "match_by": {"enum": list(MATCH_FIELDS)},
                        "value": {"type": ["string", "null"]},
                    },
                    "additionalProperties": False,
                },
            },
        },
    }


@functools.cache
def _fast_check() -> Callable[[Any], Any]:
    """The schema compiled by fastjsonschema: a state file of 10,000 managed ids is checked in
    milliseconds instead of a third of a second (apply saves the state after every create)."""
    import fastjsonschema

    return fastjsonschema.compile({k: v for k, v in state_schema().items() if k != "$schema"})


def state_problems(data: Any) -> list[str]:
    """Every way `data` breaks the state schema, each naming the record and field (at most a
    few, then a count)."""
    import fastjsonschema
    from jsonschema import Draft202012Validator

    try:
        _fast_check()(data)
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: jsonschema says exactly where and why
    else:
        return []

    validator = Draft202012Validator(state_schema())
    problems = sorted(_describe(e) for e in validator.iter_errors(data))
    if len(problems) > _MAX_SHOWN:
        problems = [*problems[:_MAX_SHOWN], f"and {len(problems) - _MAX_SHOWN} more problems"]
    return problems


def _describe(error: Any) -> str:
    path = list(error.absolute_path)
    message = _printable(error.message)
    if len(path) >= 2 and path[0] == "records":
        where = f"record {_printable(str(path[1]))}"
        if len(path) >= 3:
            where += ": " + "".join(_field_path(path[2:])).lstrip(".")
        return f"{where}: {message}"
    if path:
        return f"{'.'.join(_printable(str(p)) for p in path)}: {message}"
    return message


def _field_path(parts: list[Any]) -> Iterator[str]:
    for part in parts:
        yield f"[{part}]" if isinstance(part, int) else f".{_printable(str(part))}"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:200]
