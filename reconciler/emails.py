"""Email address checks for `primaryEmail`: email-validator's verdicts, with a fast path.

Most addresses are plain ASCII: `plain_email` accepts exactly those email-validator certainly
accepts, without calling it; everything else goes to the library, so every refusal (and its
message) is the library's. The library itself is imported on first use.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from types import ModuleType

# A plain ASCII address that email-validator certainly accepts: a dot-atom local part of at most
# 64 characters, and a domain of letter-digit-hyphen labels (no IDNA `xx--`), at most 63
# characters each, under an alphabetic top-level domain, and not a special-use domain. Anything
# else goes to email-validator, so every refusal (and its message) is the library's.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:(?!..--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


@cache
def email_checks() -> ModuleType:
    """email-validator, imported on first use: it compiles its grammar at import (tens of ms),
    which a run whose files all come from the file cache never needs."""
    import email_validator

    return email_validator


@cache
def special_use() -> frozenset[str]:
    return frozenset(email_checks().SPECIAL_USE_DOMAIN_NAMES)


def plain_email(value: str) -> bool:
    """True when `value` is a plain ASCII address email-validator accepts (the fast path)."""
    if len(value) > 254 or not _PLAIN_EMAIL.fullmatch(value):
        return False
    local, _, domain = value.rpartition("@")
    if len(local) > 64 or len(domain) > 253:
        return False
    labels = domain.lower().split(".")
    special = special_use()
    return not any(".".join(labels[i:]) in special for i in range(len(labels)))


@lru_cache(maxsize=4096)  # one customer's address often recurs across their opportunities
def email_text_problem(value: str) -> str | None:
    if plain_email(value):
        return None
    checks = email_checks()
    try:
        checks.validate_email(value, check_deliverability=False)
    except checks.EmailNotValidError as e:
        return str(e)
    return None
