"""The quota memory: what the API last said about the daily quota, kept between runs.

Before its first request a run does not know how many requests the key has left; the API says so
only in its answers (`X-RateLimit-Remaining`, `X-RateLimit-Limit`). So every run that talks to the
API leaves, beside the live snapshot cache, `quota-<digest of the API URL>.json`: the remaining
and the limit it was last told, the reset time if the server sent one (`X-RateLimit-Reset` or
`RateLimit-Reset`: CONTRACT.md documents none, the quota is a rolling 24 hours), the answer's
`Date` (the server's clock) and this machine's clock when the answer arrived, and the API URL
(without any user:password part). Never the key, nor anything computed from it: a figure is not
bound to a key, so a key switched within the trust window below could be refused on the old
key's figure; the refusal names the file to remove (see `QuotaMemory.check`).

The next `plan`, saved-plan check or `drift` refuses before its first request a read that figure
cannot cover (`QuotaTooLow`, with the numbers), but only while the figure is trustworthy; a
doubtful one is ignored, so the run reads (and the in-flight guard of `budget.Budgeted` takes over
after its first answer). A figure is void once its reset time has passed, by this machine's clock
or by the server's as seen at the answer, whichever passes it first; without a reset time (a
rolling quota recovers as old requests age out) it is trusted for `ROLLING_TRUST` only, measured
from the earlier of the two clocks' observation times. A file that is unreadable, corrupted,
foreign, for another URL or observed in this machine's future is ignored with a one-line notice.
"""

from __future__ import annotations

import contextlib
import email.utils
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

import orjson

from reconciler.atomic import write_atomic
from reconciler.errors import QuotaTooLow, ReconcilerError
from reconciler.regular import CACHE_LIMIT, read_optional
from reconciler.snapshot_file import digest, parse_instant, public_url

FORMAT_VERSION: Final = "1"
KIND: Final = "reconciler quota memory"
ROLLING_TRUST: Final = timedelta(minutes=10)
"""How long a figure without a reset time is trusted: a rolling quota recovers as the requests of
24 hours ago age out, at a pace nobody tells us."""
SKEW: Final = timedelta(minutes=2)
"""Clock disagreement tolerated before an observation counts as made in the future."""
MAX_RESET: Final = timedelta(hours=25)
"""A reset further away than a day is not a daily quota's: the figure is treated as rolling."""
EPOCH_FROM: Final = 1_000_000_000
"""A reset header at least this large is a Unix time; a smaller one is seconds from the answer."""
FIELDS: Final = frozenset(
    {
        "format_version",
        "kind",
        "api_url",
        "remaining",
        "limit",
        "seen_at",
        "server_date",
        "reset_at",
    }
)


class Answered(Protocol):
    """What a client tells of the last answer that carried the quota (`client.ApiClient`)."""

    last_remaining: int | None
    last_limit: int | None
    last_reset: str | None  # the reset header as sent, if any
    last_date: str | None  # that answer's Date header, as sent
    last_seen_at: datetime | None  # this machine's clock when it arrived


@dataclass(frozen=True, slots=True)
class Figure:
    """One answer's word on the quota."""

    remaining: int
    limit: int | None
    seen_at: datetime  # this machine's clock when the answer arrived
    server_date: datetime | None  # the answer's Date: the server's clock then
    reset_at: datetime | None  # when the quota resets, on the server's clock, if it said


def figure_of(client: Answered) -> Figure | None:
    """The last answer's figure, its reset header made an instant on the server's clock."""
    if client.last_remaining is None or client.last_seen_at is None:
        return None
    server_date = http_date(client.last_date)
    return Figure(
        remaining=max(client.last_remaining, 0),
        limit=client.last_limit,
        seen_at=client.last_seen_at,
        server_date=server_date,
        reset_at=reset_instant(client.last_reset, server_date or client.last_seen_at),
    )


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        instant = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def reset_instant(value: str | None, answered_at: datetime) -> datetime | None:
    """A reset header as an instant: a Unix time, or seconds after the answer (`answered_at`)."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if number >= EPOCH_FROM:
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return answered_at + timedelta(seconds=number)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a figure may refuse a read `now`, and until when (None: not trusted)."""

    until: datetime | None
    doubt: str | None = None  # why it is ignored, when that deserves a notice
    by_reset: bool = False  # `until` is the server's reset time (else the rolling trust)


def judge(figure: Figure, now: datetime) -> Verdict:
    """Until when (this machine's clock) `figure` may be trusted, erring on the side of reading.

    Two views of elapsed time: this machine's clock against its own reading at the answer, and
    against the server's `Date` (another machine restoring the cache may have another clock).
    Each view must agree the answer is in the past; the figure ends at the earliest end of any.
    """
    observed = [figure.seen_at] + ([figure.server_date] if figure.server_date else [])
    if any(now < at - SKEW for at in observed):
        return Verdict(None, "it was observed later than this machine's clock says it is now")
    # The server's clock at `now`, by each view: as this machine's, or shifted by the offset
    # seen at the answer. The reset has passed if it has in either.
    offsets = [timedelta(0)]
    if figure.server_date is not None:
        offsets.append(figure.server_date - figure.seen_at)
    reset = figure.reset_at
    anchor = figure.server_date or figure.seen_at
    if reset is not None and reset - anchor > MAX_RESET:
        reset = None
    if reset is not None:
        until = min(reset - offset for offset in offsets)
    else:
        until = min(observed) + ROLLING_TRUST
    return Verdict(until if now < until else None, by_reset=reset is not None)


def dump(api_url: str, figure: Figure) -> bytes:
    return orjson.dumps(
        {
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "api_url": api_url,
            "remaining": figure.remaining,
            "limit": figure.limit,
            "seen_at": figure.seen_at.isoformat(),
            "server_date": None if figure.server_date is None else figure.server_date.isoformat(),
            "reset_at": None if figure.reset_at is None else figure.reset_at.isoformat(),
        }
    )


class Unusable(Exception):
    """Why a quota file cannot be used (one line for the notice)."""


def parse(raw: bytes, api_url: str) -> Figure:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Unusable("not valid JSON (truncated or corrupted?)") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise Unusable("not a reconciler quota memory")
    if data.get("format_version") != FORMAT_VERSION:
        raise Unusable(f"written by another format version ({data.get('format_version')!r})")
    if set(data) != FIELDS:
        raise Unusable("it holds other fields than a quota memory does")
    if data["api_url"] != api_url:
        raise Unusable(f"written for another API URL ({data['api_url']!r})")
    remaining, limit = data["remaining"], data["limit"]
    if not _count(remaining) or not (limit is None or _count(limit)):
        raise Unusable("its remaining or limit is not a count")
    seen_at = parse_instant(data["seen_at"])
    if seen_at is None:
        raise Unusable("its observation time is not a timestamp")
    instants: dict[str, datetime | None] = {}
    for name in ("server_date", "reset_at"):
        instants[name] = parse_instant(data[name])
        if data[name] is not None and instants[name] is None:
            raise Unusable(f"its {name} is not a timestamp")
    return Figure(remaining, limit, seen_at, instants["server_date"], instants["reset_at"])


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def clock_time(instant: datetime, now: datetime) -> str:
    """`14:02 UTC`, with the date when it is not today's."""
    instant = instant.astimezone(UTC)
    if instant.date() == now.astimezone(UTC).date():
        return instant.strftime("%H:%M UTC")
    return instant.strftime("%Y-%m-%d %H:%M UTC")


class QuotaMemory:
    """The quota file of one API URL in one cache folder, for one command run.

    `known()` is the figure a read may be refused on (None: none, or not trusted now);
    `remember(client)` keeps the client's last figure. `notices` collects the one-line messages
    for stderr (a file ignored, a file not written).
    """

    def __init__(
        self,
        directory: Path,
        api_url: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.api_url = public_url(api_url)
        self.path = directory / f"quota-{digest(self.api_url)}.json"
        self.notices: list[str] = []
        self._clock = clock
        self._figure: Figure | None = None
        self._loaded = False
        self._doubted = False

    def known(self) -> tuple[Figure, Verdict] | None:
        """The remembered figure and until when it is trusted, if it is trusted now."""
        figure = self._load()
        if figure is None:
            return None
        verdict = judge(figure, self._clock())
        if verdict.doubt is not None and not self._doubted:
            self._doubted = True
            self._notice(verdict.doubt)
        if verdict.until is None:
            return None
        return figure, verdict

    def check(self, need: int, what: str, command: str, *, full: bool = True) -> None:
        """Refuse, before its first request, a read of about `need` requests (`what`: "to read
        ...") that the trusted remembered figure cannot cover; `full`: a full read, which an
        incremental one would make cheaper."""
        known = self.known() if need > 0 else None
        if known is None or need <= known[0].remaining:
            return
        figure, verdict = known
        assert verdict.until is not None
        now = self._clock()
        said = clock_time(figure.server_date or figure.seen_at, now)
        if verdict.by_reset and figure.reset_at is not None:
            when = f"resets {clock_time(figure.reset_at, now)}"
            retry = "retry after the reset"
        else:
            when = "a rolling 24-hour quota"
            retry = (
                "retry once the quota has recovered (from "
                f"{clock_time(verdict.until, now)} this figure is not trusted any more and a run "
                "asks the API again)"
            )
        ways = [retry, "narrow the run with --target"]
        if full:
            ways.append(
                "read incrementally (--refresh auto, with the live cache kept between runs)"
            )
        of = "" if figure.limit is None else f" of {figure.limit:,}"
        verb = "remains" if figure.remaining == 1 else "remain"
        raise QuotaTooLow(
            f"{command} needs about {_requests(need)} {what}; the API said "
            f"{figure.remaining:,}{of} {verb} (at {said}, {when}); nothing was read",
            hint=f"{', '.join(ways[:-1])} or {ways[-1]}; if this run uses another API key than "
            f"the run that was told this, remove {self.path}",
        )

    def remember(self, client: Answered) -> None:
        """Keep the client's last figure (if an answer told one), atomically; a file that
        cannot be written is skipped with a notice: the memory is optional."""
        figure = figure_of(client)
        if figure is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, dump(self.api_url, figure), new_mode=0o600)
        except (OSError, ReconcilerError) as e:
            why = e.strerror if isinstance(e, OSError) else e.message
            self.notices.append(f"Quota memory {self.path} not updated: {why}.")
            return
        self._figure, self._loaded = figure, True

    def _load(self) -> Figure | None:
        if self._loaded:
            return self._figure
        self._loaded = True
        raw = read_optional(self.path, limit=CACHE_LIMIT, notice=self._notice)
        if raw is None:
            return None
        try:
            self._figure = parse(raw, self.api_url)
        except Unusable as e:
            self._notice(str(e))
        return self._figure

    def _notice(self, why: str) -> None:
        self.notices.append(f"Quota memory {self.path} ignored: {why}.")


@contextlib.asynccontextmanager
async def remembering(memory: QuotaMemory | None, client: Answered) -> AsyncIterator[None]:
    """Remember the client's last figure when the block ends, however it ends (a read refused,
    or a 429 with nothing left, is the figure most worth keeping). Written to sit beside the
    client: `async with ApiClient(...) as client, remembering(memory, client):`."""
    try:
        yield
    finally:
        if memory is not None:
            memory.remember(client)


def _requests(n: int) -> str:
    return f"{n:,} request{'s' if n != 1 else ''}"
