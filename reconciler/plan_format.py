"""The plan's dict form, `format_version` "2": what `plan --out` writes and `apply PLANFILE`
reads back.

One entry per action in `changes` (`delete`, `create`, `update`, `unmanage`, in that order),
each with an `action` and, in `sends`, what apply sends for it (`null`: nothing); `options` holds
`--prune` and `--match-by`. Reading refuses anything that is not exactly such a plan: another
`format_version` with `PlanVersionError` (the caller says which version it reads), a malformed
entry with the `KeyError`/`TypeError`/`ValueError` that found it. Documented in the README.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.catalogue import NewOption
from reconciler.diff import FieldChange
from reconciler.plan import (
    FORMAT_VERSION,
    Action,
    Change,
    Create,
    ErrorKind,
    Plan,
    RecordError,
    Removal,
    RequestCounts,
)


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return (
        {
            "format_version": FORMAT_VERSION,
            "options": {"prune": plan.prune, "match_by": plan.match_by},
            "changes": [
                *(_removal_to_dict(r) for r in plan.deletes),
                *(_create_to_dict(c) for c in plan.creates),
                *(_change_to_dict(c) for c in plan.changes),
                *(_removal_to_dict(r) for r in plan.unmanaged),
            ],
            "errors": [
                {"id": e.id, "file": e.file, "kind": e.kind.value, "message": e.message}
                for e in plan.errors
            ],
            "summary": plan.summary(),
            "requests": {
                "spent": plan.requests.spent,
                "apply": plan.requests.apply,
                "remaining": plan.requests.remaining,
                "read": plan.requests.read,
            },
            "files": dict(sorted(plan.files.items())),
        }
        | ({"notes": list(plan.notes)} if plan.notes else {})
        | ({"api_url": plan.api_url} if plan.api_url else {})
    )


def _options_to_dict(options: Sequence[NewOption]) -> list[dict[str, str]]:
    return [{"field": o.field, "value": o.value} for o in options]


def _options_from_dict(items: Any) -> tuple[NewOption, ...]:
    return tuple(NewOption(str(o["field"]), str(o["value"])) for o in items)


def _change_to_dict(c: Change) -> dict[str, Any]:
    return {
        "action": Action.UPDATE.value,
        "id": c.id,
        "file": c.file,
        "title": c.title,
        "fields": [
            {"field": f.field, "before": f.before, "after": f.after, "before_known": f.before_known}
            for f in c.fields
        ],
        "new_options": _options_to_dict(c.new_options),
        "allow_new_options": c.allow_new_options,
        "live_updated_at": c.live_updated_at,
        "sends": {"method": "PATCH", "body": dict(c.patch)},
    }


def _create_to_dict(c: Create) -> dict[str, Any]:
    return {
        "action": Action.CREATE.value,
        "id": c.bind_id,
        "file": c.file,
        "title": c.title,
        "digest": c.digest,
        "match": {"by": c.match_by, "value": c.match_value},
        "new_options": _options_to_dict(c.new_options),
        "bind": c.bind_id is not None,
        "sends": None
        if c.bind_id is not None
        else {"method": "POST", "query": c.query, "body": dict(c.body)},
    }


def _removal_to_dict(r: Removal) -> dict[str, Any]:
    return {
        "action": r.action.value,
        "id": r.id,
        "file": r.file,
        "title": r.title,
        "reason": r.reason,
        "live_updated_at": r.live_updated_at,
        "sends": {"method": "DELETE"} if r.action is Action.DELETE else None,
    }


def _change_from_dict(c: Mapping[str, Any]) -> Change:
    sends = c["sends"]
    if sends["method"] != "PATCH":
        raise ValueError(f"an update sends PATCH, not {sends['method']!r}")
    return Change(
        id=int(c["id"]),
        file=str(c["file"]),
        title=str(c["title"]),
        fields=tuple(
            FieldChange(str(f["field"]), f["before"], f["after"], bool(f["before_known"]))
            for f in c["fields"]
        ),
        patch=dict(sends["body"]),
        new_options=_options_from_dict(c["new_options"]),
        live_updated_at=c.get("live_updated_at"),
        allow_new_options=_flag(c.get("allow_new_options", False)),
    )


def _create_from_dict(c: Mapping[str, Any], match_by: str) -> Create:
    bind = bool(c["bind"])
    sends = c["sends"]
    body = {} if bind else dict(sends["body"])
    match = c["match"]
    if str(match["by"]) != match_by:
        raise ValueError(f"a create matches by {match['by']!r}, the plan by {match_by!r}")
    return Create(
        file=str(c["file"]),
        title=str(c["title"]),
        body=body,
        digest=str(c["digest"]),
        match_by=match_by,
        match_value=None if match["value"] is None else str(match["value"]),
        new_options=_options_from_dict(c["new_options"]),
        bind_id=int(c["id"]) if bind else None,
    )


def _removal_from_dict(c: Mapping[str, Any], action: Action) -> Removal:
    return Removal(
        id=int(c["id"]),
        file=str(c["file"]),
        title=str(c["title"]),
        action=action,
        live_updated_at=c.get("live_updated_at"),
        reason=str(c["reason"]),
    )


def plan_from_dict(data: Any) -> Plan:
    version = data.get("format_version") if isinstance(data, dict) else None
    if version != FORMAT_VERSION:
        raise PlanVersionError(version)
    options = data["options"]
    match_by = str(options["match_by"])
    prune = options["prune"]
    if not isinstance(prune, bool):
        raise ValueError("options.prune must be true or false")
    changes: list[Change] = []
    creates: list[Create] = []
    removals: list[Removal] = []
    for c in data["changes"]:
        action = Action(c["action"])
        if action is Action.UPDATE:
            changes.append(_change_from_dict(c))
        elif action is Action.CREATE:
            creates.append(_create_from_dict(c, match_by))
        else:
            removals.append(_removal_from_dict(c, action))
    if any(r.action is Action.DELETE for r in removals) and not prune:
        raise ValueError("it deletes records but was not planned with --prune")
    errors = tuple(
        RecordError(
            None if e["id"] is None else int(e["id"]),
            str(e["file"]),
            ErrorKind(e["kind"]),
            str(e["message"]),
        )
        for e in data["errors"]
    )
    req = data["requests"]
    remaining = req.get("remaining")
    plan = Plan(
        changes=tuple(changes),
        unchanged=int(data["summary"]["unchanged"]),
        errors=errors,
        requests=RequestCounts(
            int(req["spent"]),
            int(req["apply"]),
            None if remaining is None else int(remaining),
            read=None if req.get("read") is None else str(req["read"]),
        ),
        files={str(k): str(v) for k, v in data["files"].items()},
        notes=tuple(str(n) for n in data.get("notes", ())),
        api_url=str(data["api_url"]) if data.get("api_url") else None,
        creates=tuple(creates),
        removals=tuple(removals),
        prune=prune,
        match_by=match_by,
    )
    checksum = data.get("checksum")
    if checksum is not None and checksum != plan.checksum():
        raise ValueError("its checksum does not match its content: it was edited after planning")
    return plan


class PlanVersionError(ValueError):
    def __init__(self, version: object) -> None:
        super().__init__(f"format_version is {version!r}, expected {FORMAT_VERSION!r}")
        self.version = version


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"allow_new_options must be true or false, not {value!r}")
    return value
