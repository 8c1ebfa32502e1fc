"""The plain-ASCII email fast path gives the same verdicts as email-validator: it only ever
says "valid", and only for addresses the library accepts (a refusal is always the library's)."""

from __future__ import annotations

import email_validator
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emails import email_text_problem, plain_email


def library_accepts(value: str) -> bool:
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


ATOM = "abcXYZ019!#$%&'*+/=?^_`{|}~-."
LABEL = "abz09-_"
TLDS = ["com", "co", "io", "test", "local", "localhost", "arpa", "invalid", "onion", "c", "123"]

local = st.text(alphabet=ATOM + 'é "(),:;<>[\\]', min_size=0, max_size=70)
label = st.text(alphabet=LABEL, min_size=0, max_size=70) | st.sampled_from(
    ["xn--bcher-kva", "ab--cd", "-a", "a-", "example", "x" * 63, "x" * 64]
)
domain = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(label, min_size=0, max_size=4),
    st.sampled_from(TLDS) | st.text(alphabet="abZ9", min_size=1, max_size=5),
)
address = st.builds(lambda lp, d: f"{lp}@{d}", local, domain) | st.text(max_size=40)


@settings(max_examples=3000, deadline=None)
@given(address)
def test_the_fast_path_accepts_only_what_the_library_accepts(value: str) -> None:
    if plain_email(value):
        assert library_accepts(value), value


@settings(max_examples=500, deadline=None)
@given(address)
def test_the_verdict_and_message_are_the_librarys(value: str) -> None:
    expected: str | None = None
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as e:
        expected = str(e)
    assert email_text_problem.__wrapped__(value) == expected


def test_the_fast_path_takes_the_common_addresses() -> None:
    for value in ["customer1@example.com", "maria.ramirez@example.com", "o'brien+x@mail.co.uk"]:
        assert plain_email(value) and library_accepts(value)
    for value in ["a@x.test", "a@localhost", "a..b@x.com", "a@x.c", "é@x.com", "a@1.2"]:
        assert not plain_email(value)
