"""New dropdown options on purpose: a file's or a folder's `allow_new_options` flows into plan and
apply (the PATCH carries allow_new_options=true), and plan says when the catalogue file is stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from reconciler.errors import ExitCode

from .conftest import record

ROOT = Path(__file__).resolve().parents[2]


def test_a_file_that_lists_the_dropdown_is_applied_without_the_flag(make_world: Any) -> None:
    desired = record(1, custom={"roof_type": "Slate"}, allow_new_options=["roof_type"])
    world = make_world([record(1)], [desired])
    plan = world.plan_json()
    [change] = plan["changes"]
    assert change["new_options"] == [{"field": "custom.roof_type", "value": "Slate"}]
    assert change["allow_new_options"] is True
    assert "allow_new_options" not in change["sends"]["body"]  # a reconciler setting, never sent
    code, out, _ = world.plan()
    assert 'new dropdown option custom.roof_type: "Slate" (the file allows it)' in out
    code, out, err = world.apply()
    assert code == ExitCode.OK, err
    [patch] = world.patches()
    assert patch.query["allow_new_options"] == "true"
    assert patch.body == {"custom": {"roof_type": "Slate"}}
    assert world.live(1)["custom"]["roof_type"] == "Slate"


def test_an_opt_in_for_one_dropdown_does_not_cover_another(make_world: Any) -> None:
    desired = record(
        1, trades=["Solar", "Pool"], custom={"roof_type": "Slate"}, allow_new_options=["roof_type"]
    )
    world = make_world([record(1)], [desired])
    assert world.plan_json()["changes"][0]["allow_new_options"] is False
    code, _, err = world.apply()
    assert code == ExitCode.ERROR
    assert (
        "would create 2 new dropdown options in records whose files do not allow them all: "
        'trades="Pool", custom.roof_type="Slate"' in err
    )
    assert world.patches() == []
    assert world.apply("--allow-new-options")[0] == ExitCode.OK
    assert world.patches()[0].query["allow_new_options"] == "true"


def test_the_folder_setting_opts_every_file_in(make_world: Any) -> None:
    world = make_world(
        [record(1), record(2)],
        [record(1, trades=["Solar", "Pool"]), record(2, value=5)],
    )
    (world.dir / ".reconciler.yaml").write_text("allow_new_options: true\n")
    code, _, err = world.apply()
    assert code == ExitCode.OK, err
    sent = {p.path: p.query["allow_new_options"] for p in world.patches()}
    # only the PATCH that creates an option asks for it
    assert sent == {"/opportunities/1": "true", "/opportunities/2": "false"}


def test_a_saved_plan_keeps_the_opt_in_and_its_checksum_guards_it(make_world: Any) -> None:
    desired = record(1, custom={"roof_type": "Slate"}, allow_new_options=True)
    world = make_world([record(1)], [desired])
    planfile = world.dir.parent / "plan.json"
    assert world.plan("--out", str(planfile))[0] == ExitCode.OK
    data = json.loads(planfile.read_text())
    assert data["changes"][0]["allow_new_options"] is True
    tampered = world.dir.parent / "tampered.json"
    data["changes"][0]["allow_new_options"] = "yes"
    tampered.write_text(json.dumps(data))
    args = ("--dir", str(world.dir), "--state", str(world.state), "--auto-approve")
    code, _, err = world.run("apply", str(tampered), *args)
    assert code == ExitCode.ERROR and "not a valid reconciler plan" in err
    code, _, err = world.run("apply", str(planfile), *args)
    assert code == ExitCode.OK, err
    assert world.patches()[0].query["allow_new_options"] == "true"


def test_plan_says_when_the_live_catalogue_differs_from_the_file(make_world: Any) -> None:
    world = make_world([record(1)], [record(1, custom={"roof_type": "Metal"})])
    schemas = world.dir.parent / "schemas"
    schemas.mkdir()
    shutil.copy(ROOT / "schemas/catalogue.json", schemas / "catalogue.json")
    code, out, _ = world.plan()
    assert code == ExitCode.OK
    assert "Note:" not in out
    catalogue = json.loads((schemas / "catalogue.json").read_text())
    catalogue["custom"]["roof_type"]["options"].remove("Metal")
    (schemas / "catalogue.json").write_text(json.dumps(catalogue))
    code, out, _ = world.plan()
    assert code == ExitCode.OK  # the live catalogue has Metal: the plan checks against it
    assert (
        "Note: the live catalogue differs from " in out
        and "schemas/catalogue.json (1 changed); this plan was checked against the live one." in out
    )
    markdown = world.plan("--format", "markdown")[1]
    assert "**Note:** the live catalogue differs from" in markdown
    assert "the live catalogue differs from" in "".join(world.plan_json()["notes"])


def test_a_saved_plan_cannot_claim_an_opt_in_the_files_do_not_make(make_world: Any) -> None:
    world = make_world([record(1)], [record(1, custom={"roof_type": "Slate"})])
    planfile = world.dir.parent / "plan.json"
    world.plan("--out", str(planfile))
    data = json.loads(planfile.read_text())
    data["changes"][0]["allow_new_options"] = True
    data["changes"][0]["new_options"] = []  # hiding the option does not help either
    del data["checksum"]  # a checksum proves nothing: anyone can recompute it
    planfile.write_text(json.dumps(data))
    args = ("--dir", str(world.dir), "--state", str(world.state), "--auto-approve")
    code, _, err = world.run("apply", str(planfile), *args)
    assert code == ExitCode.ERROR
    assert 'records whose files do not allow them all: custom.roof_type="Slate"' in err
    assert world.patches() == []
    assert world.live(1)["custom"].get("roof_type") != "Slate"
