"""`reconciler demo`: the whole loop on a throwaway sandbox, validate -> plan -> apply -> plan.

The files are copied to a temporary folder with one more file that has no `id`: the plan shows
it as a create, apply creates it and writes its new id into the copy, and the second plan is
"no changes". The files under --dir are never written.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import click

from reconciler.apply import ApplyReport
from reconciler.cli.common import Loaded, color_for, dir_option, load_all, run, shown_path
from reconciler.client import ApiClient, ClientSettings
from reconciler.demo import demo_seed
from reconciler.engine import ApplyOptions, Lifecycle, PlanRun, compute_plan, run_apply
from reconciler.errors import ExitCode, ReconcilerError
from reconciler.render.dispatch import Applied, render
from reconciler.sandbox import SeedError, run_sandbox
from reconciler.sandbox.catalogue import properties
from reconciler.state import State

NEW_FILE = "new-okafor-heat-pump.yaml"
NEW_TEXT = """\
# A new opportunity, declared in git first: no id yet. `apply` creates it in Coperniq and
# writes its id here, as the first key; the rest of the file stays as written.
title: Okafor Family - Heat Pump Install
address:
  - 418 Birchwood Dr, Boulder, CO 80304
trades: [HVAC]
value: 14200
status: ACTIVE
"""


def _step(number: int, title: str) -> None:
    header = f"\n== {number}/5 {title}"
    click.echo(click.style(header, bold=True) if color_for(sys.stdout) else header)


@click.command("demo")
@dir_option
def command(directory: Path) -> int:
    """Run validate, plan, apply and plan again against a throwaway sandbox.

    The sandbox is seeded from the files with the drift real CRMs see (renamed titles, edited
    dropdowns, reformatted phones), so the first plan has changes and the second has none. A copy
    of the files gets one new file without an id: apply creates it and writes its id into it.
    Nothing outside a temporary folder is touched; no Coperniq account is needed.
    """
    _step(1, f"validate {directory}, plus one new file without an id")
    if not directory.is_dir():
        raise ReconcilerError(
            f"{directory}: no such folder",
            hint="run the demo in the project folder (it holds opportunities/), or pass --dir",
        )
    with tempfile.TemporaryDirectory(prefix="reconciler-demo-") as tmp:
        folder = Path(tmp) / "opportunities"
        shutil.copytree(directory, folder, ignore=shutil.ignore_patterns(".*"))
        (folder / NEW_FILE).write_text(NEW_TEXT, encoding="utf-8")
        cwd = Path.cwd()
        os.chdir(tmp)  # so that plans show opportunities/..., not the temporary folder
        try:
            return _demo(Path("opportunities"))
        finally:
            os.chdir(cwd)


def _demo(folder: Path) -> int:
    loaded = load_all(folder)
    click.echo(f"{len(loaded.records)} files with an id, {len(loaded.new)} without: no problems.")
    seed = demo_seed(loaded.records, properties()["opportunity"])
    try:
        sandbox = run_sandbox(seed)
        sb = sandbox.__enter__()
    except SeedError as e:
        raise ReconcilerError(
            f"the demo sandbox cannot hold these files: {e}",
            hint="the demo uses the example company's catalogue (accounts 201-205, contacts "
            "501-510, workflows 301-303); run it on the shipped opportunities/ folder",
        ) from None
    try:
        code = _loop(sb.base_url, sb.api_key, loaded, folder, Path(".reconciler/state.json"))
        sent = [r for r in sb.requests() if r.method in ("PATCH", "POST")]
        click.echo(
            f"\nThe sandbox at {sb.base_url} received {len(sb.requests())} requests; these "
            "wrote, each with only what the files ask for:"
        )
        for r in sent:
            click.echo(f"  {r.method} {r.path} {json.dumps(r.body, ensure_ascii=False)}")
    finally:
        sandbox.__exit__(None, None, None)
    return code


def _loop(base_url: str, key: str, loaded: Loaded, folder: Path, state_file: Path) -> int:
    settings = ClientSettings(base_url=base_url, api_key=key)
    state = State.load(state_file)
    state.bind(base_url)
    color = color_for(sys.stdout)
    new_file = folder / NEW_FILE

    async def plan_once(files: Loaded) -> PlanRun:
        life = Lifecycle(files.new, folder=shown_path(folder))
        async with ApiClient(settings) as client:
            return await compute_plan(client, files.records, state, files=files.files, life=life)

    _step(2, "plan (against the sandbox, seeded with drifted records)")
    first = asyncio.run(plan_once(loaded))
    click.echo(render(first.plan, "text", color=color), nl=False)

    _step(3, "apply --auto-approve")

    async def apply(stop: asyncio.Event) -> ApplyReport:
        async with ApiClient(settings) as client:
            options = ApplyOptions(allow_new_options=True, force=True)
            return await run_apply(
                client,
                first.plan,
                state,
                options,
                live=first.live.records,
                stop=stop,
                declared={r.id: r.file for r in loaded.records},
            )

    report, interrupted = run(apply)
    click.echo(render(Applied(first.plan, report), "text"), nl=False)
    if interrupted:
        return ExitCode.INTERRUPTED

    _step(4, f"the new file gained its id ({NEW_FILE})")
    click.echo(new_file.read_text(encoding="utf-8"), nl=False)

    _step(5, "plan again: nothing left to change")
    second = asyncio.run(plan_once(load_all(folder)))
    click.echo(render(second.plan, "text", color=color), nl=False)
    if not report.ok or second.plan.has_changes or second.plan.errors:
        click.echo("The demo did not converge: see the messages above.", err=True)
        return ExitCode.ERROR
    return ExitCode.OK
