"""Seeds: YAML and JSON files and mappings, their errors (file, line, column, path), defaults,
the generator, and a --db file that keeps its state across restarts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from reconciler.sandbox import (
    SandboxConfig,
    SandboxError,
    SeedError,
    generate,
    load_seed,
    run_sandbox,
)

from .conftest import client_for, seed

GOOD_YAML = """\
accounts:
  - {id: 1, title: Acme Roofing Customers}
workflows:
  - id: 10
    name: Sales
    phases: [{id: 11, name: Lead}, {id: 12, name: Won}]
opportunities:
  - id: 7
    title: ""
    address: ["1 A St, Boise, ID 83702"]
    trades: [Solar]
    accountId: 1
    workflowId: 10
    phaseId: 12
    status: COMPLETED
    custom:
      hoa_approval: no
      site_survey_date: 2026-03-01
    updatedAt: 2026-01-02T03:04:05Z
"""


def test_a_yaml_seed_keeps_yaml_1_2_scalars_and_fills_defaults(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(GOOD_YAML)
    loaded = load_seed(path)
    (record,) = loaded.opportunities
    assert record["custom"] == {"hoa_approval": "no", "site_survey_date": "2026-03-01"}
    assert record["updatedAt"] == "2026-01-02T03:04:05.000Z"
    assert loaded.accounts == {1: "Acme Roofing Customers"}  # given: replaces the default
    assert 501 in loaded.contacts  # left out: the example company's
    with run_sandbox(path) as sb, client_for(sb, sb.api_key) as client:
        shown = client.get("/opportunities/7").json()
    assert shown["title"] == "Acme Roofing Customers"
    assert shown["workflowName"] == "Sales" and shown["phase"]["name"] == "Won"


def test_a_json_seed(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed()))
    assert [r["id"] for r in load_seed(path).opportunities] == [1, 2, 3, 4, 5]


def test_no_seed_is_the_reference_data_without_opportunities() -> None:
    empty = load_seed(None)
    assert empty.opportunities == ()
    assert sorted(empty.accounts) == [201, 202, 203, 204, 205]
    assert [w.id for w in empty.workflows] == [301, 302, 303]


BAD_YAML = [
    ("opportunities: [\n", "seed.yaml:2:1: invalid YAML"),
    ("- 1\n", "a seed must be a mapping"),
    ("oportunities: []\n", "seed.yaml:1:1: oportunities: unknown section"),
    (
        "opportunities:\n  - id: 1\n    title: T\n    address: [x]\n    trades: [Solar]\n"
        "    custom:\n      roof_type: Wood\n",
        "seed.yaml:7:7: opportunities[0].custom.roof_type: (id 1) custom.roof_type: 'Wood' is not",
    ),
    (
        "opportunities:\n  - {id: 1, title: T, address: [x], trades: [Solar]}\n"
        "  - {id: 1, title: U, address: [y], trades: [Solar]}\n",
        "seed.yaml:3:6: opportunities[1].id: duplicate id 1",
    ),
    (
        "opportunities:\n  - {id: 2, title: T, address: [x], trades: [Solar], accountId: 9}\n",
        "opportunities[0].accountId: (id 2) accountId: no account with id 9",
    ),
    (
        "opportunities:\n  - {id: 2, title: T, address: [x], trades: [Solar], city: Austin}\n",
        "opportunities[0].city: (id 2) city is read-only",
    ),
    (
        "opportunities:\n  - {id: 2, title: T, address: [x], trades: [Solar], updatedAt: soon}\n",
        "opportunities[0].updatedAt",
    ),
    ("opportunities:\n  - {title: T}\n", "opportunities[0].id: id must be a positive integer"),
    ("properties:\n  opportunity: []\n", "needs the standard property 'trades'"),
    ("workflows:\n  - {id: 1, name: W, phases: [{id: 1}]}\n", "workflows[0].phases[0].name"),
    ("contacts:\n  - {id: 1, firstName: A, accountIds: [1]}\n", "contacts[0].accountIds"),
]


@pytest.mark.parametrize(("text", "message"), BAD_YAML)
def test_bad_yaml_seeds_say_where_and_what(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_bad_json_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text('{"opportunities": [\n  {"id": 1,}\n]}')
    with pytest.raises(SeedError, match=r"seed.json:2:12: invalid JSON"):
        load_seed(path)
    with pytest.raises(SeedError, match="cannot read the seed file"):
        load_seed(tmp_path / "absent.yaml")


def test_generate_is_realistic_valid_and_deterministic() -> None:
    data = generate(300, rng_seed=7)
    assert data == generate(300, rng_seed=7)
    assert data != generate(300, rng_seed=8)
    records = data["opportunities"]
    assert [r["id"] for r in records] == list(range(1, 301))
    loaded = load_seed(data)  # every record passes the same rules as a POST
    assert len(loaded.opportunities) == 300
    archived = sum(not r["isActive"] for r in records)
    assert 0 < archived < 30
    assert any(r["title"] == "" for r in records)
    assert {t for r in records for t in r["trades"]} <= set(loaded.reference().options("trades"))


def test_a_db_file_keeps_state_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    config = SandboxConfig(db=db, api_key="persistent-key")
    with run_sandbox(seed(), config) as sb, client_for(sb, sb.api_key) as client:
        client.patch("/opportunities/1", json={"value": 77})
        client.post("/contacts", json={"name": "Kept Contact"})
    with (
        pytest.raises(SandboxError, match="already holds sandbox data"),
        run_sandbox(seed(), config),
    ):
        pass
    with run_sandbox(None, config) as sb, client_for(sb, sb.api_key) as client:
        assert client.get("/opportunities/1").json()["value"] == 77
        assert client.get("/contacts", params={"q": "kept"}).json()[0]["id"] == 511
        sb.reset()  # back to the seed the file was created from
        assert client.get("/opportunities/1").json()["value"] == 1000
        assert client.get("/opportunities", params={"page_size": 100}).json().__len__() == 4


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("not sqlite " * 100)
    with pytest.raises(SandboxError, match="not a usable"), run_sandbox(None, SandboxConfig(db=db)):
        pass


def test_the_db_writes_through(tmp_path: Path) -> None:
    # A second reader sees a PATCH as soon as it is answered: the write is committed.
    db = tmp_path / "sandbox.db"
    with run_sandbox(seed(), SandboxConfig(db=db)) as sb, client_for(sb, sb.api_key) as client:
        assert client.patch("/opportunities/2", json={"value": 3}).status_code == 200
        reader = sqlite3.connect(db)
        (stored,) = reader.execute("SELECT stored FROM opportunity WHERE id = 2").fetchone()
        reader.close()
    assert json.loads(stored)["value"] == 3
