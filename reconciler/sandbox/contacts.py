"""Contacts: what `POST /contacts` accepts and what `GET /contacts` shows.

Opportunities refer to contacts by id only; a contact is created here first. The body follows the
published `ContactCreate` (name, emails, phones, title, accountIds, projectIds; firstName and
lastName are accepted too), and the view the published `Contact` plus the `id` it omits.
"""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email

from reconciler.sandbox.errors import invalid
from reconciler.sandbox.reference import Reference
from reconciler.sandbox.rules import describe, is_int


def check_contact(body: object, ref: Reference) -> dict[str, Any]:
    """A `ContactCreate` body, normalised; raises a 400 naming the field."""
    if not isinstance(body, dict):
        raise invalid(None, f"the request body must be a JSON object, got {describe(body)}")
    known = {
        "name",
        "firstName",
        "lastName",
        "phones",
        "emails",
        "title",
        "accountIds",
        "projectIds",
    }
    for key in body:
        if key not in known:
            raise invalid(key, f"unknown field {key!r}")
    first, last = body.get("firstName"), body.get("lastName")
    for key in ("firstName", "lastName", "title"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise invalid(key, f"{key} must be a string")
    name = body.get("name")
    if name is None:
        name = " ".join(p for p in (first, last) if p)
    if not isinstance(name, str) or not name.strip():
        raise invalid("name", "name is required (a non-empty string)")
    for key in ("phones", "emails"):
        items = body.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise invalid(key, f"{key} must be an array of strings")
    for email in body.get("emails", []):
        try:
            validate_email(email, check_deliverability=False, test_environment=True)
        except EmailNotValidError as e:
            raise invalid("emails", f"emails: {email!r} is not a valid email: {e}") from None
    for key in ("accountIds", "projectIds"):
        items = body.get(key, [])
        if not isinstance(items, list) or not all(is_int(i) for i in items):
            raise invalid(key, f"{key} must be an array of integers")
    for account_id in body.get("accountIds", []):
        if account_id not in ref.accounts:
            raise invalid("accountIds", f"accountIds: no account with id {account_id}")
    if first is None and last is None:
        first, _, last = name.strip().partition(" ")
    return {
        "name": name.strip(),
        "firstName": first or "",
        "lastName": last or "",
        "emails": list(body.get("emails", [])),
        "phones": list(body.get("phones", [])),
        "title": body.get("title"),
        "accountIds": list(body.get("accountIds", [])),
        "projectIds": list(body.get("projectIds", [])),
    }


def contact_view(contact: dict[str, Any], ref: Reference) -> dict[str, Any]:
    """A contact as GET /contacts shows it (the published `Contact`, plus its id)."""
    out = {
        "id": contact["id"],
        "name": contact["name"],
        "firstName": contact["firstName"],
        "lastName": contact["lastName"],
        "emails": list(contact["emails"]),
        "phones": list(contact["phones"]),
        "accounts": [
            {"id": a, "title": ref.accounts[a]} for a in contact["accountIds"] if a in ref.accounts
        ],
        "projects": [],
    }
    if contact.get("title") is not None:
        out["title"] = contact["title"]
    return out
