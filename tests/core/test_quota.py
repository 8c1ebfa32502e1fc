"""The quota memory's rules, with the clocks given: when a remembered figure may refuse a read,
and when it is void or doubtful (the reading side wins every doubt); the file format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from reconciler.errors import QuotaTooLow
from reconciler.quota import (
    ROLLING_TRUST,
    Figure,
    QuotaMemory,
    Unusable,
    clock_time,
    dump,
    http_date,
    judge,
    parse,
    reset_instant,
)

T0 = datetime(2026, 12, 1, 14, 2, 0, tzinfo=UTC)
URL = "http://127.0.0.1:8000/v1"


def fig(
    remaining: int = 40,
    *,
    seen: timedelta = timedelta(0),
    server: timedelta | None = timedelta(0),
    reset: timedelta | None = None,
) -> Figure:
    """A figure seen at T0 + `seen` (this machine), Date T0 + `server`, reset T0 + `reset`."""
    return Figure(
        remaining,
        5000,
        T0 + seen,
        None if server is None else T0 + server,
        None if reset is None else T0 + reset,
    )


def test_a_rolling_figure_is_trusted_for_the_trust_window_only() -> None:
    figure = fig()
    assert judge(figure, T0 + ROLLING_TRUST - timedelta(seconds=1)).until == T0 + ROLLING_TRUST
    assert judge(figure, T0 + ROLLING_TRUST).until is None


def test_the_earlier_observation_starts_the_window() -> None:
    # The server's Date says 8 minutes before this machine's clock did: 2 minutes are left.
    figure = fig(server=-timedelta(minutes=8))
    assert judge(figure, T0 + timedelta(minutes=2, seconds=1)).until is None
    assert judge(fig(server=None), T0 + timedelta(minutes=9)).until is not None


def test_a_reset_ahead_holds_the_figure_until_then() -> None:
    figure = fig(reset=timedelta(hours=10))
    verdict = judge(figure, T0 + timedelta(hours=9))
    assert verdict.until == T0 + timedelta(hours=10) and verdict.by_reset
    assert judge(figure, T0 + timedelta(hours=10)).until is None


def test_a_reset_passes_when_either_clock_says_so() -> None:
    # The server's clock ran an hour ahead of ours: its reset comes an hour earlier on ours.
    ahead = fig(server=timedelta(hours=1), reset=timedelta(hours=3))
    assert judge(ahead, T0 + timedelta(hours=2)).until is None
    assert judge(ahead, T0 + timedelta(hours=1, minutes=59)).until == T0 + timedelta(hours=2)
    # It ran an hour behind: the reset as written passes first.
    behind = fig(server=-timedelta(hours=1), reset=timedelta(hours=3))
    assert judge(behind, T0 + timedelta(hours=3)).until is None


def test_a_reset_more_than_a_day_away_is_not_believed() -> None:
    figure = fig(reset=timedelta(days=3))
    verdict = judge(figure, T0 + timedelta(minutes=1))
    assert verdict.until == T0 + ROLLING_TRUST and not verdict.by_reset


@pytest.mark.parametrize(
    "figure",
    [fig(seen=timedelta(minutes=5)), fig(server=timedelta(minutes=5), reset=timedelta(hours=1))],
)
def test_an_observation_in_the_future_is_doubtful(figure: Figure) -> None:
    verdict = judge(figure, T0)
    assert verdict.until is None and verdict.doubt is not None


def test_a_little_skew_is_tolerated() -> None:
    assert judge(fig(seen=timedelta(seconds=30)), T0).until is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1764601200", datetime(2025, 12, 1, 15, 0, tzinfo=UTC)),  # a Unix time
        ("3600", T0 + timedelta(hours=1)),  # seconds after the answer
        ("0", T0),
        (" 60 ", T0 + timedelta(minutes=1)),
        ("-5", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("1e400", None),
        (None, None),
    ],
)
def test_reset_headers(value: str | None, expected: datetime | None) -> None:
    assert reset_instant(value, T0) == expected


def test_http_dates() -> None:
    assert http_date("Tue, 01 Dec 2026 14:02:00 GMT") == T0
    assert http_date("not a date") is None
    assert http_date(None) is None


def test_the_file_round_trips_and_holds_only_its_fields() -> None:
    figure = fig(reset=timedelta(hours=3))
    raw = dump(URL, figure)
    assert parse(raw, URL) == figure
    assert set(orjson.loads(raw)) == {
        "format_version",
        "kind",
        "api_url",
        "remaining",
        "limit",
        "seen_at",
        "server_date",
        "reset_at",
    }
    with pytest.raises(Unusable, match="another API URL"):
        parse(raw, "http://127.0.0.1:9/v1")
    data = orjson.loads(raw)
    with pytest.raises(Unusable, match="not a count"):
        parse(orjson.dumps(data | {"limit": "5000"}), URL)
    with pytest.raises(Unusable, match="reset_at is not a timestamp"):
        parse(orjson.dumps(data | {"reset_at": 12}), URL)
    with pytest.raises(Unusable, match="not a reconciler quota memory"):
        parse(b"[1, 2]", URL)


def memory_at(tmp_path: Path, figure: Figure, now: datetime) -> QuotaMemory:
    memory = QuotaMemory(tmp_path, URL, clock=lambda: now)
    memory.path.write_bytes(dump(memory.api_url, figure))
    return memory


def test_check_refuses_with_the_numbers(tmp_path: Path) -> None:
    memory = memory_at(tmp_path, fig(reset=timedelta(hours=9, minutes=58)), T0)
    with pytest.raises(QuotaTooLow) as caught:
        memory.check(101, "to read 10,000 records in full", "plan")
    assert caught.value.message == (
        "plan needs about 101 requests to read 10,000 records in full; the API said 40 of "
        "5,000 remain (at 14:02 UTC, resets 2026-12-02 00:00 UTC); nothing was read"
    )
    assert caught.value.hint is not None and caught.value.hint.startswith("retry after the reset")


def test_check_lets_through_what_the_figure_covers(tmp_path: Path) -> None:
    memory = memory_at(tmp_path, fig(40), T0)
    memory.check(40, "to read", "plan")
    memory.check(0, "to read", "plan")
    with pytest.raises(QuotaTooLow):
        memory.check(41, "to read", "plan")


def test_check_never_refuses_on_a_stale_figure(tmp_path: Path) -> None:
    memory = memory_at(tmp_path, fig(0), T0 + ROLLING_TRUST)
    memory.check(10_000, "to read", "plan")
    assert memory.notices == []


def test_a_doubtful_figure_is_noticed_once(tmp_path: Path) -> None:
    memory = memory_at(tmp_path, fig(0, seen=timedelta(hours=1)), T0)
    memory.check(5, "to read", "plan")
    memory.check(5, "to read", "plan")
    assert len(memory.notices) == 1 and "ignored" in memory.notices[0]


def test_clock_time_names_the_day_when_not_today() -> None:
    assert clock_time(T0, T0) == "14:02 UTC"
    assert clock_time(T0 + timedelta(days=1), T0) == "2026-12-02 14:02 UTC"
