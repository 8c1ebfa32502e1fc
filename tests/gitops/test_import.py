"""`reconciler import` against the sandbox: what the files hold, where they go, and the round trip
(import, then validate finds nothing and plan no change)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from reconciler.client import ApiClient, ClientSettings
from reconciler.fields import FIELDS, READ_ONLY
from reconciler.importer import document_from_live, list_records, slug
from reconciler.loader import load_file
from reconciler.sandbox import generate

from .conftest import Repo, record

SEED = [record(1), record(2, isActive=False)]  # the module's shared sandbox (`repo` fixture)
MODELINE = "# yaml-language-server: $schema=../schemas/opportunity.company.schema.json\n"

TRICKY = [
    record(1, title="no", description="2026-01-15", primaryPhone="0123456789"),
    record(2, title="1:30", description="line one\nline two\n", custom={"utility_company": "yes"}),
    record(3, title="1e5", description="  padded  ", custom={"utility_company": "0123"}),
    record(4, title="true", description='say "hi" # not a comment', custom={"hoa_approval": "no"}),
    record(5, title="- Müller: Solar & Storage *2*", description="null", value=1000.0, size=7),
    record(6, title="~", description="", trades=["Solar", "EV Charger"], confidence=0),
]


def assert_round_trip(repo: Repo, *dir_args: str) -> None:
    validated = repo.run("validate", *(dir_args[1:] or ["opportunities"]))
    assert validated.code == 0, validated.out + validated.err
    plan = repo.run("plan", "--detailed-exitcode", *dir_args)
    assert plan.code == 0, plan.out + plan.err
    assert "Plan: 0 to update" in plan.out
    drift = repo.run("drift", "--detailed-exitcode", *dir_args)
    assert drift.code == 0, drift.out + drift.err


def test_round_trip_over_a_realistic_company(make_repo: Any) -> None:
    seed = generate(250, rng_seed=5)
    repo = make_repo(seed)
    result = repo.run("import", "--all")
    assert result.code == 0, result.err
    active = sorted((r for r in seed["opportunities"] if r["isActive"]), key=lambda r: r["id"])
    files = repo.files()
    assert len(files) == len(active) < 250  # archived records are not imported
    names = sorted(files, key=lambda n: int(n.split("-", 1)[0]))
    assert [int(n.split("-", 1)[0]) for n in names] == [r["id"] for r in active]
    assert all(text.startswith(MODELINE) for text in files.values())
    assert (repo.dir / "../schemas/opportunity.company.schema.json").resolve().is_file()
    assert f"Import: {len(active)} written" in result.out
    assert_round_trip(repo)


def test_a_known_live_count_reads_the_pages_it_predicts_at_once(make_repo: Any) -> None:
    seed = generate(250, rng_seed=5)
    repo = make_repo(seed)
    state = repo.root / ".reconciler" / "state.json"
    state.parent.mkdir()
    state.write_text('{"format_version": "1", "records": {}, "live_total": 250}', "utf-8")
    assert repo.run("import", "--all").code == 0
    pages = sorted(int(r.query["page"]) for r in repo.sandbox.requests())
    assert pages == [1, 2, 3]  # the same pages as one at a time, read concurrently
    assert len(repo.files()) == sum(1 for r in seed["opportunities"] if r["isActive"])
    assert_round_trip(repo)


def test_strings_yaml_would_misread_are_quoted_and_survive(make_repo: Any) -> None:
    repo = make_repo(TRICKY)
    assert repo.run("import", "--all").code == 0
    files = repo.files()
    one = files["1-no.yaml"]
    assert 'title: "no"\n' in one
    assert 'description: "2026-01-15"\n' in one
    assert 'primaryPhone: "0123456789"\n' in one
    assert 'title: "1:30"\n' in files["2-1-30.yaml"]
    assert "description: |\n  line one\n  line two\n" in files["2-1-30.yaml"]
    assert 'utility_company: "yes"\n' in files["2-1-30.yaml"]
    assert 'title: "1e5"\n' in files["3-1e5.yaml"]
    assert 'utility_company: "0123"\n' in files["3-1e5.yaml"]
    assert 'hoa_approval: "no"\n' in files["4-true.yaml"]
    assert "value: 1000.0\nsize: 7\n" in files["5-muller-solar-storage-2.yaml"]
    assert "trades: [Solar, EV Charger]\n" in files["6-opportunity.yaml"]
    # A YAML 1.1 reader (editors, older tools) reads the same strings as the strict loader.
    for name, text in files.items():
        strict = load_file(repo.dir / name).data
        assert yaml.safe_load(text) == strict
    assert_round_trip(repo)


def test_canonical_order_only_writable_fields_and_no_nulls(make_repo: Any) -> None:
    live = record(
        7,
        description=None,
        accountId=None,
        workflowId=301,
        phaseId=3012,
        value=24850,
        confidence=70,
        primaryEmail="maria.ramirez@example.com",
        custom={"roof_type": "Tile", "financing_type": "Loan", "lead_source": "Referral"},
        status="ON_HOLD",  # write-only: stored, never returned
        contacts=[501],
    )
    repo = make_repo([live])
    assert repo.run("import", "--id", "7").code == 0
    data = load_file(repo.dir / "7-deal-7.yaml").data
    assert list(data) == [
        "id",
        "title",
        "address",
        "trades",
        "workflowId",
        "phaseId",
        "value",
        "confidence",
        "primaryEmail",
        "custom",
    ]
    assert list(data) == ["id", *[f for f in FIELDS if f in data]]
    assert list(data["custom"]) == ["financing_type", "lead_source", "roof_type"]
    assert not set(data) & READ_ONLY
    assert_round_trip(repo)


def test_an_existing_file_is_never_overwritten_without_overwrite(make_repo: Any) -> None:
    repo = make_repo([record(1, title="Ramirez Solar"), record(2, title="Chen Roof")])
    repo.dir.mkdir()
    mine = repo.dir / "ramirez.yaml"  # another name for id 1: it still counts
    mine.write_text("# hand-written\nid: 1\ntitle: Ramirez Solar (mine)\n", encoding="utf-8")
    result = repo.run("import", "--all")
    assert result.code == 0, result.err
    assert "1: opportunities/ramirez.yaml exists, kept (--overwrite replaces it)" in result.out
    assert "Import: 1 written, 0 overwritten, 1 kept (file exists), 0 failed." in result.out
    assert sorted(repo.files()) == ["2-chen-roof.yaml", "ramirez.yaml"]
    assert mine.read_text(encoding="utf-8").startswith("# hand-written\n")

    result = repo.run("import", "--all", "--overwrite")
    assert "Import: 0 written, 2 overwritten, 0 kept" in result.out
    assert sorted(repo.files()) == ["2-chen-roof.yaml", "ramirez.yaml"]  # replaced in place
    assert load_file(mine).data["title"] == "Ramirez Solar"
    assert_round_trip(repo)


def test_ids_that_are_missing_or_archived_fail_and_the_rest_is_written(repo: Repo) -> None:
    result = repo.run("import", "--id", "1", "--id", "2", "--id", "3")
    assert result.code == 1
    assert "opportunity 2: it is archived in Coperniq; not imported" in result.err
    assert "opportunity 3: no such record" in result.err
    assert sorted(repo.files()) == ["1-deal-1.yaml"]


def test_updated_after_imports_only_recent_records(make_repo: Any) -> None:
    repo = make_repo(
        [
            record(1, updatedAt="2026-01-10T08:00:00.000Z"),
            record(2, updatedAt="2026-02-10T08:00:00.000Z"),
            record(3, updatedAt="2026-03-10T08:00:00.000Z"),
        ]
    )
    result = repo.run("import", "--updated-after", "2026-02-01")
    assert result.code == 0, result.err
    assert sorted(repo.files()) == ["2-deal-2.yaml", "3-deal-3.yaml"]
    (listing,) = repo.sandbox.requests()
    assert listing.query["updated_after"] == "2026-02-01T00:00:00Z"
    assert listing.query["include_archived"] == "false"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--all", "--id", "1"],
        ["--all", "--updated-after", "2026-01-01"],
        ["--updated-after", "last tuesday"],
    ],
)
def test_usage_errors(repo: Repo, args: list[str]) -> None:
    assert repo.run("import", *args).code == 64
    assert repo.sandbox.requests() == []


def test_nested_folders_get_a_modeline_that_resolves(repo: Repo) -> None:
    folder = "companies/acme/opportunities"
    assert repo.run("import", "--all", "--dir", folder).code == 0
    text = (repo.root / folder / "1-deal-1.yaml").read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert (
        first == "# yaml-language-server: $schema=../../../schemas/opportunity.company.schema.json"
    )
    target = repo.root / folder / first.split("$schema=", 1)[1]
    assert target.resolve() == (repo.root / "schemas/opportunity.company.schema.json").resolve()
    assert_round_trip(repo, "--dir", folder)


def test_values_the_schema_rejects_are_left_out_with_a_warning() -> None:
    live = record(8, primaryEmail="not an email", custom={"ok": "x", "bad key": "y"})
    imported = document_from_live(live)
    assert imported.error is None and imported.data is not None
    assert "primaryEmail" not in imported.data
    assert imported.data["custom"] == {"ok": "x"}
    assert len(imported.warnings) == 2
    assert all("left out of the file (unmanaged)" in w for w in imported.warnings)


def test_a_required_value_the_schema_rejects_fails_the_record() -> None:
    imported = document_from_live(record(9, address=["  "]))
    assert imported.data is None
    assert imported.error is not None
    assert imported.error.startswith("opportunity 9: address[0]:")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Ramirez Household - 7.6 kW Rooftop Solar", "ramirez-household-7-6-kw-rooftop-solar"),
        ("Müller & Söhne GmbH", "muller-sohne-gmbh"),
        ("   ", "opportunity"),
        ("日本語", "opportunity"),
        ("x" * 70, "x" * 60),
        ("word " * 20, "word-word-word-word-word-word-word-word-word-word-word-word"),
    ],
)
def test_slug(title: str, expected: str) -> None:
    assert slug(title) == expected


def test_files_are_written_with_ordinary_permissions(repo: Repo) -> None:
    assert repo.run("import", "--all").code == 0
    mode = os.stat(repo.dir / "1-deal-1.yaml").st_mode & 0o777
    assert mode == 0o644
    assert not [p for p in Path(repo.dir).iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync() waits on Linux")
def test_every_file_is_on_disk_before_any_is_in_place(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import used to skip the flush for new files: after a power cut, a file could be there
    # but empty, and the next import kept it (a file already declares that id).
    repo = make_repo([record(i) for i in range(1, 41)])
    repo.dir.mkdir()
    (repo.dir / "1-deal-1.yaml").write_text("id: 1\ntitle: old\n", encoding="utf-8")
    calls: list[str] = []
    real_sync, real_fsync, real_replace = os.sync, os.fsync, os.replace

    def sync() -> None:
        calls.append("sync")
        real_sync()

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        calls.append(f"replace {Path(dst).name}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "sync", sync)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    result = repo.run("import", "--all", "--overwrite")
    assert result.code == 0, result.err
    assert "Import: 39 written, 1 overwritten" in result.out
    # The state lock's own fsync comes first; then one flush for the 40 files (no fsync each),
    # then the renames (ids in order), then one fsync of the folder's entries.
    start = calls.index("sync")
    names = sorted(repo.files(), key=lambda n: int(n.split("-", 1)[0]))
    assert calls[start:] == ["sync", *(f"replace {n}" for n in names), "fsync"]
    assert load_file(repo.dir / "1-deal-1.yaml").data["title"] == "Deal 1"


def test_the_next_page_is_requested_before_a_page_s_records_are_handed_over(
    make_repo: Any,
) -> None:
    # The work done with each page's records (document_from_live) overlaps the server's work
    # on the next page; the requests are the same as reading one page at a time.
    repo = make_repo([record(i) for i in range(1, 251)])
    events: list[str] = []

    class Spy:
        """The real client over HTTP, noting when each page is asked for."""

        def __init__(self, client: ApiClient) -> None:
            self.client = client

        async def list_page(self, number: int, *args: Any, **kwargs: Any) -> Any:
            events.append(f"request {number}")
            return await self.client.list_page(number, *args, **kwargs)

    async def read() -> list[dict[str, Any]]:
        settings = ClientSettings(
            base_url=f"{repo.sandbox.base_url}/v1", api_key=repo.sandbox.api_key
        )
        async with ApiClient(settings) as client:
            return await list_records(
                cast(Any, Spy(client)),
                on_records=lambda rs: events.extend(f"record {r['id']}" for r in rs),
            )

    records = asyncio.run(read())
    assert [r["id"] for r in records] == list(range(1, 251))
    assert [e for e in events if e.startswith("request")] == [f"request {n}" for n in (1, 2, 3)]
    assert [e for e in events if e.startswith("record")] == [f"record {i}" for i in range(1, 251)]
    assert events.index("request 2") < events.index("record 1")  # page 2 asked for first
    assert events.index("request 3") < events.index("record 101")
    assert events.index("record 250") > events.index("request 3")
