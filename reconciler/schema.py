"""The opportunity schema: whether a loaded file is valid, and if not, what to tell its author.

This module owns `schemas/opportunity.schema.json` at run time (shipped in the package through
`reconciler/data/`) and turns its verdict into findings a person can act on: a read-only field
says it is read-only and to remove it, an unknown field suggests the closest known name, a blank
title explains the account-title fallback, an email is checked with email-validator. It is pure:
it takes parsed data and returns values; positions are the caller's business.

Two validators read the same schema file. `is_valid` is the fast path, the schema compiled to
Python by `fastjsonschema`, which checks a whole file in microseconds; `check` runs it first and
only for an invalid file asks the `jsonschema` library for every error with its path. Both use the
same rule for "integer" (a Python int, never 1.0 or a bool), and a property test keeps them in
agreement.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import fastjsonschema
from fastjsonschema.draft04 import CodeGeneratorDraft04
from fastjsonschema.draft07 import CodeGeneratorDraft07
from fastjsonschema.ref_resolver import RefResolver

if TYPE_CHECKING:  # imported when a file is invalid: every plan would pay ~40 ms for it otherwise
    import jsonschema
    from jsonschema import ValidationError

from reconciler.document import Key, format_field
from reconciler.emails import email_checks, email_text_problem, special_use
from reconciler.fields import MERGED, READ_ONLY

SCHEMA_RESOURCE = "data/opportunity.schema.json"
"""Inside the package; a symlink to schemas/opportunity.schema.json in the source tree."""


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a file's data. `keys` says where to point, `field` what to name."""

    keys: tuple[Key, ...]
    field: str
    message: str


@cache
def load_schema() -> dict[str, Any]:
    """The opportunity schema as a dict (read once)."""
    text = resources.files("reconciler").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def is_valid(data: Any) -> bool:
    """True when the data satisfies the schema; the fast path for files without problems."""
    return _fast_check()(data)


def prepare() -> None:
    """Compile the fast check and import the email checks now, so that worker processes forked
    afterwards inherit them instead of each doing it again."""
    _fast_check()
    special_use()


def check(data: Any) -> list[Finding]:
    """Every problem with the data, each with a message that says what to do; [] when valid."""
    if _fast_check()(data):
        return []
    found: dict[tuple[tuple[Key, ...], str, str], Finding] = {}
    for error in _detailed_validator().iter_errors(data):
        for finding in _translate(error):
            found.setdefault((finding.keys, finding.field, finding.message), finding)
    return list(found.values())


# --- the two validators ------------------------------------------------------------------------


def _email_problem(value: object) -> str | None:
    return email_text_problem(value) if isinstance(value, str) else None


def _is_email(value: object) -> bool:
    if (problem := _email_problem(value)) is not None:
        raise email_checks().EmailNotValidError(problem)
    return True


def _is_strict_integer(checker: object, value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Check = Callable[[Any], bool]


class _StrictIntegers(CodeGeneratorDraft07):
    """Draft-07 code generation (every keyword the schema uses reads the same as in 2020-12) with
    draft-04's "integer": a Python int, never 1.0 (draft 6+ would accept 1.0), as the detailed
    validator and the API's own schema read it."""

    generate_type = CodeGeneratorDraft04.generate_type


@cache
def _fast_check() -> Check:
    # What fastjsonschema.compile does, with the generator above (compile picks its generator
    # from `$schema` and knows no 2020-12).
    definition = {k: v for k, v in load_schema().items() if k != "$schema"}
    formats = {"email": lambda value: _email_problem(value) is None}
    resolver = RefResolver.from_schema(definition, handlers={}, store={})
    generator = _StrictIntegers(  # type: ignore[no-untyped-call]
        definition, resolver=resolver, formats=formats, detailed_exceptions=False
    )
    namespace = dict(generator.global_state)
    exec(generator.func_code, namespace)  # code generated from our own schema file
    validate = namespace[resolver.get_scope_name()]

    def check(data: Any) -> bool:
        try:
            validate(data, custom_formats=formats)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check


@cache
def _detailed_validator() -> jsonschema.protocols.Validator:
    import jsonschema
    from jsonschema import Draft202012Validator, FormatChecker

    format_checker = FormatChecker(formats=())
    format_checker.checks("email", raises=email_checks().EmailNotValidError)(_is_email)
    strict = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
    )
    validator: jsonschema.protocols.Validator = strict(load_schema(), format_checker=format_checker)
    return validator


# --- from jsonschema errors to findings --------------------------------------------------------

_BLANK_PATTERN = "\\S"

_BLANK: Mapping[str, str] = {
    "title": (
        "the title is blank: the API reads a blank title back as the account's title, so the "
        "file and the live record would never agree; give the opportunity its own title"
    ),
    "address": "the address is blank: write the full address, e.g. 12 Oak St, Springfield, IL",
}

_TYPE_NAMES: Mapping[str, str] = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _translate(error: ValidationError) -> Iterator[Finding]:
    keys: tuple[Key, ...] = tuple(error.absolute_path)
    keyword = error.validator
    spec: Any = error.validator_value
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    schema_path = list(error.absolute_schema_path)

    if len(schema_path) >= 2 and schema_path[-2] == "propertyNames":
        name_keys = (*keys, str(value))
        yield Finding(
            name_keys,
            format_field(name_keys),
            f"'{value}' is not a valid custom field key: keys are the company's property "
            "keyNames (letters, digits and _, not starting with a digit)",
        )
    elif keyword == "required" and isinstance(value, dict):
        for name in spec:
            if name not in value:
                field = format_field((*keys, name))
                message = f"the required field {name} is missing; add it"
                if not keys and "id" not in value:
                    message += (
                        " (a file without id declares a new opportunity, and creating one "
                        "needs title, address and trades)"
                    )
                yield Finding(keys, field, message)
    elif keyword == "additionalProperties" and isinstance(value, dict):
        known = schema.get("properties", {})
        for name in value:
            if name not in known:
                name_keys = (*keys, name)
                yield Finding(name_keys, format_field(name_keys), _unknown(name, known))
    elif keyword == "not" and keys and keys[-1] in READ_ONLY and len(keys) == 1:
        described = schema.get("description", "Read-only: returned by the API; remove it.")
        message = f"{keys[-1]} is {_lower_first(described)}".rstrip(".")
        yield Finding(keys, format_field(keys), message)
    else:
        yield from _value_finding(error, keys, value, schema)


def _value_finding(
    error: ValidationError, keys: tuple[Key, ...], value: Any, schema: Mapping[str, Any]
) -> Iterator[Finding]:
    keyword = error.validator
    spec: Any = error.validator_value
    field = format_field(keys)
    top = keys[0] if keys else None
    if keyword == "type":
        yield Finding(keys, field, _type_message(keys, spec, value))
    elif keyword == "enum":
        choices = list(spec)
        message = f"must be one of {', '.join(map(str, choices))}, not {_describe(value)}"
        suggestion = _closest(str(value), [str(c) for c in choices]) if value is not None else None
        yield Finding(
            keys, field, message + (f"; did you mean {suggestion}?" if suggestion else "")
        )
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            message = f"must be between {low} and {high}, not {value}"
        elif low is not None:
            message = f"must be at least {low}, not {value}"
        else:
            message = f"must be at most {high}, not {value}"
        yield Finding(keys, field, message)
    elif keyword == "maxItems" and top == "address":
        yield Finding(
            (*keys, int(spec)),  # point at the first string too many
            field,
            f"holds {len(value)} strings; it must hold exactly one: the full address on one line "
            "(street, city, state and zipcode in one string)",
        )
    elif keyword == "minItems" and top == "address":
        yield Finding(keys, field, "is empty; it must hold exactly one string: the full address")
    elif keyword in ("minItems", "maxItems"):
        yield Finding(keys, field, _count_message(keys, schema, value))
    elif keyword == "uniqueItems":
        yield from _duplicates(keys, value)
    elif keyword == "pattern" and spec == _BLANK_PATTERN:
        yield Finding(keys, field, _BLANK.get(str(top), "must not be blank"))
    elif keyword == "format":
        reason = f" ({error.cause})" if error.cause else ""
        yield Finding(keys, field, f"{value!r} is not a valid email address{reason}")
    elif keyword == "pattern":
        yield Finding(keys, field, f"{value!r} does not match the pattern {spec}")
    else:  # a keyword this module has no wording for: jsonschema's own message still says it
        yield Finding(keys, field, error.message)


def _type_message(keys: tuple[Key, ...], expected: str | list[str], value: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    merged = bool(keys) and keys[0] in MERGED
    if merged and len(keys) == 2:
        return (
            "a custom value must be a string, a number, true or false, null (clears the key) "
            f"or a list of strings (a multi-select), not {_describe(value)}"
        )
    if merged and len(keys) == 3:
        return f"a multi-select value lists strings, not {_describe(value)}"
    wanted = " or ".join(_TYPE_NAMES.get(name, name) for name in names)
    if names == ["array"] and not isinstance(value, (list, dict)):
        example = f"{format_field(keys)}: [{json.dumps(value)}]"
        return f"must be a list, not {_describe(value)}; write it as a list: {example}"
    message = f"must be {wanted}, not {_describe(value)}"
    if "integer" in names and isinstance(value, float) and value.is_integer():
        message += f" (write {int(value)})"
    return message


def _count_message(keys: tuple[Key, ...], schema: Mapping[str, Any], value: Any) -> str:
    low, high = schema.get("minItems"), schema.get("maxItems")
    count = len(value) if isinstance(value, list) else 0
    if low is not None and low == high:
        return f"must hold exactly {low} item{'s' if low != 1 else ''}, not {count}"
    if low is not None and count < low:
        return f"must hold at least {low} item{'s' if low != 1 else ''}, not {count}"
    return f"must hold at most {high} item{'s' if high != 1 else ''}, not {count}"


def _duplicates(keys: tuple[Key, ...], items: Any) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    name = format_field(keys)
    for i, item in enumerate(items if isinstance(items, list) else []):
        marker = json.dumps(item, sort_keys=True)
        if marker in seen:
            item_keys = (*keys, i)
            yield Finding(
                item_keys,
                format_field(item_keys),
                f"{_describe(item)} is listed twice (first as {name}[{seen[marker]}]); "
                f"{name} is a set: list each value once",
            )
        else:
            seen[marker] = i


def _unknown(name: str, known: Mapping[str, Any]) -> str:
    if name in READ_ONLY:  # in case fields.READ_ONLY grows before the schema file does
        return f"{name} is read-only: returned by the API, never accepted; remove it"
    writable = [k for k in known if k not in READ_ONLY]
    suggestion = _closest(name, writable)
    if suggestion is not None:
        return f"unknown field '{name}'; did you mean '{suggestion}'?"
    return f"unknown field '{name}': remove it or, if it is a custom field, move it under custom:"


def _closest(word: str, candidates: list[str]) -> str | None:
    by_lower = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None


_YAML11_WORDS = frozenset({"yes", "no", "y", "n", "on", "off", "true", "false"})
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+").fullmatch
_THOUSANDS = re.compile(r"[-+]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?").fullmatch


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = str(value)
    described = f"the string {text!r}"
    if text.lower() in _YAML11_WORDS:
        return described + " (only true and false, in lower case, are booleans)"
    if _LEADING_ZERO(text):
        return described + " (a number with a leading zero is read as text)"
    if _THOUSANDS(text):
        return described + " (write numbers without thousands separators)"
    return described


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
