"""The pure parts of read_live: sortedness bookkeeping and the request-cost estimates."""

from __future__ import annotations

import pytest

from reconciler.estimates import (
    Progress,
    full_listing_cost,
    initial_list_cost,
    next_pages,
    pages_left,
)


def test_progress_tracks_ascending_ids_within_and_across_pages() -> None:
    p = Progress().observe([1, 2, 5]).observe([6, 9])
    assert p == Progress(pages=2, seen=5, first_id=1, last_id=9, ascending=True)


@pytest.mark.parametrize(
    "pages",
    [
        [[1, 3, 2]],  # within a page
        [[1, 2, 3], [3, 4]],  # a repeat across pages
        [[5, 6], [1, 2]],  # descending across pages
        [[1, "2", 3]],  # not an integer id
        [[1, None]],
        [[1, True]],
    ],
)
def test_progress_notices_anything_not_strictly_ascending(pages: list[list[object]]) -> None:
    p = Progress()
    for ids in pages:
        p = p.observe(ids)
    assert not p.ascending


def test_unsorted_stays_unsorted() -> None:
    p = Progress().observe([2, 1]).observe([10, 11])
    assert not p.ascending
    assert p.last_id == 11


@pytest.mark.parametrize(
    ("records", "pages"), [(0, 1), (1, 1), (99, 1), (100, 2), (10_000, 101), (10_050, 101)]
)
def test_full_listing_ends_at_the_first_short_page(records: int, pages: int) -> None:
    assert full_listing_cost(records, 100) == pages


@pytest.mark.parametrize(
    ("wanted", "max_id", "known_total", "cost"),
    [
        (10_000, 10_000, None, 100),  # ids 1..10000: the 100th page reaches 10000
        (10_000, 10_000, 10_000, 100),
        (3, 9_999, None, 100),  # three ids spread over 10k: listing would cost ~100
        (3, 9_999, 50, 1),  # ...unless the company has 50 records: one short page
        (10, 10, 10_000, 1),  # the first ten ids: page 1 has them
        (250, 300_250, None, 3003),
        (250, 300_250, 400, 5),
        (5_000, 5_000, 100, 50),  # a stale count never beats the slots the ids need
    ],
)
def test_initial_list_cost(wanted: int, max_id: int, known_total: int | None, cost: int) -> None:
    assert initial_list_cost(wanted, max_id, known_total, 100) == cost


def test_pages_left_when_sorted_follows_the_density_seen() -> None:
    dense = Progress().observe(range(1, 101))
    assert pages_left(dense, pending=9_900, max_id=10_000, known_total=None, page_size=100) == 99
    # Ids 2, 4, 6...: half the density, so half the pages to reach the same id, but never fewer
    # than the pending ids need.
    sparse = Progress().observe(range(2, 202, 2))
    assert pages_left(sparse, pending=10, max_id=20_200, known_total=None, page_size=100) == 100
    assert pages_left(sparse, pending=12_000, max_id=20_200, known_total=None, page_size=100) == 120


def test_pages_left_is_bounded_by_the_known_total() -> None:
    dense = Progress().observe(range(1, 101))
    assert pages_left(dense, pending=3, max_id=10_000, known_total=300, page_size=100) == 3


def test_pages_left_when_unsorted_needs_the_end_of_the_listing() -> None:
    mixed = Progress().observe([5, 1, *range(10, 108)])
    assert pages_left(mixed, pending=3, max_id=50, known_total=1_000, page_size=100) == 10
    assert pages_left(mixed, pending=250, max_id=50, known_total=None, page_size=100) == 4


def test_pages_left_is_at_least_one() -> None:
    done = Progress().observe(range(1, 101))
    assert pages_left(done, pending=0, max_id=50, known_total=None, page_size=100) == 1


def test_progress_density_from_the_spacing_of_ids() -> None:
    assert Progress().density == 1.0
    assert Progress().observe(range(1, 101)).density == 1.0
    assert Progress().observe(range(2, 202, 2)).density == 0.5
    assert Progress().observe([7]).density == 1.0


def test_next_pages_reads_every_page_the_wanted_ids_fill() -> None:
    first = Progress().observe(range(1, 101))
    pending = list(range(101, 10_001))
    assert next_pages(first, pending, known_total=None, page_size=100) == 99


def test_next_pages_reads_a_page_then_gets_the_far_stragglers() -> None:
    first = Progress().observe(range(1, 101))
    pending = [*range(101, 121), 5_000, 6_000]
    # One page reaches 101..200; the two far ids cost a GET each: 3 < 22 GETs or 59 pages.
    assert next_pages(first, pending, known_total=None, page_size=100) == 1
    second = first.observe(range(101, 201))
    assert next_pages(second, [5_000, 6_000], known_total=None, page_size=100) == 0


def test_next_pages_prefers_gets_on_a_tie() -> None:
    first = Progress().observe(range(1, 101))
    assert next_pages(first, [150, 250], known_total=None, page_size=100) == 0
    assert next_pages(first, [150, 160, 170], known_total=None, page_size=100) == 1


def test_next_pages_when_the_known_total_ends_the_listing_soon() -> None:
    first = Progress().observe(range(1, 101))
    # 150 records in all: one more page ends the listing, whatever the ids.
    assert next_pages(first, [120, 9_000, 9_500], known_total=150, page_size=100) == 1


def test_next_pages_unsorted_is_all_the_rest_or_nothing() -> None:
    mixed = Progress().observe([5, 1, *range(10, 108)])
    assert next_pages(mixed, list(range(200, 300)), known_total=1_000, page_size=100) == 10
    assert next_pages(mixed, [200, 300, 400], known_total=1_000, page_size=100) == 0


def test_next_pages_with_nothing_pending_is_zero() -> None:
    assert next_pages(Progress(), [], known_total=None, page_size=100) == 0
