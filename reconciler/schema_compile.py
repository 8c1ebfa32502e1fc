"""A JSON Schema compiler for the fast path: a schema in, one `value -> bool` function out.

The `jsonschema` library walks the schema anew for every value and takes about 200 microseconds per
opportunity file, slower than parsing the file. Validation here is compiled once into nested
closures that test a file in a few microseconds. It covers the keywords draft-07 and 2020-12 read
the same way and that the opportunity schema uses; any other keyword is refused when compiling
(never silently ignored), so a schema change that needs one fails the test suite at once. Types
follow JSON Schema except that "integer" means a Python int (never 1.0, never a bool), the rule
`reconciler.schema` gives the detailed `jsonschema` validator as well. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
"""Keywords that never affect validity."""

_OBJECT = ("properties", "required", "additionalProperties", "propertyNames")
_ARRAY = ("items", "minItems", "maxItems", "uniqueItems")
_STRING = ("pattern", "minLength", "maxLength", "format")
_NUMBER = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
SUPPORTED = frozenset({"type", "enum", "const", "not", *_OBJECT, *_ARRAY, *_STRING, *_NUMBER})
"""Keywords the compiler implements."""

_PYTHON_TYPES: Mapping[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword or form this compiler does not implement."""


def compile_schema(schema: Any, formats: Mapping[str, Check] | None = None) -> Check:
    """Compile a schema to a function returning whether a value is valid.

    `formats` maps a format name to its check; formats not listed are annotations only (as in
    the `jsonschema` library without a format checker for them).
    """
    return _compile(schema, formats or {})


def _compile(schema: Any, formats: Mapping[str, Check]) -> Check:
    if schema is True:
        return _accept
    if schema is False:
        return _reject
    if not isinstance(schema, dict):
        raise UnsupportedSchema(f"a schema must be an object or a boolean, not {schema!r}")
    unknown = set(schema) - ANNOTATIONS - SUPPORTED
    if unknown:
        raise UnsupportedSchema(
            f"keywords {sorted(unknown)} are not supported by reconciler.schema_compile; "
            "implement them there (and cover them in its tests) before using them in the schema"
        )
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type(schema["type"]))
    if "enum" in schema:
        checks.append(_enum(schema["enum"]))
    if "const" in schema:
        checks.append(_enum([schema["const"]]))
    if any(k in schema for k in _OBJECT):
        checks.append(_object(schema, formats))
    if any(k in schema for k in _ARRAY):
        checks.append(_array(schema, formats))
    if any(k in schema for k in _STRING):
        checks.append(_string(schema, formats))
    if any(k in schema for k in _NUMBER):
        checks.append(_number(schema))
    if "not" in schema:
        inner = _compile(schema["not"], formats)
        checks.append(lambda value: not inner(value))
    return _all(checks)


def _accept(value: Any) -> bool:
    return True


def _reject(value: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _accept
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    frozen = tuple(checks)
    return lambda value: all(check(value) for check in frozen)


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    return isinstance(value, _PYTHON_TYPES[name])


def _type(spec: str | list[str]) -> Check:
    names = [spec] if isinstance(spec, str) else list(spec)
    for name in names:
        if name not in _PYTHON_TYPES:
            raise UnsupportedSchema(f"unknown type {name!r}")
    # One set lookup on the exact type covers what the loader produces; type(True) is bool, not
    # int, so a bool passes here only where "boolean" is allowed. Anything else (a subclass)
    # takes the careful path.
    exact = frozenset(t for name in names for t in _PYTHON_TYPES[name])

    def check(value: Any) -> bool:
        if type(value) in exact:
            return True
        return any(_is_type(value, name) for name in names)

    return check


def _frozen(value: Any) -> Any:
    """A hashable stand-in with JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _frozen(v)) for k, v in value.items()))
    return value


def _enum(values: list[Any]) -> Check:
    allowed = frozenset(_frozen(v) for v in values)
    return lambda value: _frozen(value) in allowed


def _object(schema: Mapping[str, Any], formats: Mapping[str, Check]) -> Check:
    properties = {k: _compile(v, formats) for k, v in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    additional = _compile(schema.get("additionalProperties", True), formats)
    names = _compile(schema["propertyNames"], formats) if "propertyNames" in schema else None

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name in required:
            if name not in value:
                return False
        get = properties.get
        for key, item in value.items():
            if names is not None and not names(key):
                return False
            if not get(key, additional)(item):
                return False
        return True

    return check


def _array(schema: Mapping[str, Any], formats: Mapping[str, Check]) -> Check:
    items_schema = schema.get("items", True)
    if isinstance(items_schema, list):
        raise UnsupportedSchema("tuple-form `items` reads differently in draft-07 and 2020-12")
    items = _compile(items_schema, formats)
    low = schema.get("minItems", 0)
    high = schema.get("maxItems")
    unique = bool(schema.get("uniqueItems", False))

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        if len(value) < low or (high is not None and len(value) > high):
            return False
        if unique and len({_frozen(v) for v in value}) != len(value):
            return False
        return all(items(v) for v in value)

    return check


def _string(schema: Mapping[str, Any], formats: Mapping[str, Check]) -> Check:
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    form = formats.get(schema["format"]) if "format" in schema else None

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        if len(value) < low or (high is not None and len(value) > high):
            return False
        if search is not None and search(value) is None:
            return False
        return form is None or form(value)

    return check


def _number(schema: Mapping[str, Any]) -> Check:
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    for bound in (above, below):
        if isinstance(bound, bool):
            raise UnsupportedSchema("boolean exclusiveMinimum/exclusiveMaximum is draft-04 only")

    def check(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True
        return not (
            (low is not None and value < low)
            or (high is not None and value > high)
            or (above is not None and value <= above)
            or (below is not None and value >= below)
        )

    return check
