"""`reconciler demo`: the whole loop on a throwaway sandbox, validate -> plan -> apply -> plan."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import click

from reconciler.apply import ApplyReport
from reconciler.cli.common import color_for, dir_option, load_records, run
from reconciler.client import ApiClient, ClientSettings
from reconciler.demo import demo_seed
from reconciler.engine import ApplyOptions, PlanRun, compute_plan, run_apply
from reconciler.errors import ExitCode, ReconcilerError
from reconciler.plan import DesiredRecord
from reconciler.render.dispatch import Applied, render
from reconciler.sandbox import SeedError, run_sandbox
from reconciler.sandbox.catalogue import properties
from reconciler.state import State


def _step(number: int, title: str) -> None:
    header = f"\n== {number}/4 {title}"
    click.echo(click.style(header, bold=True) if color_for(sys.stdout) else header)


@click.command("demo")
@dir_option
def command(directory: Path) -> int:
    """Run validate, plan, apply and plan again against a throwaway sandbox.

    The sandbox is seeded from the files with the drift real CRMs see (renamed titles, edited
    dropdowns, reformatted phones), so the first plan has changes and the second has none.
    Nothing outside a temporary folder is touched; no Coperniq account is needed.
    """
    _step(1, f"validate {directory}")
    records, files = load_records(directory)
    click.echo(f"{len(records)} files, no problems.")
    seed = demo_seed(records, properties()["opportunity"])
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
        with tempfile.TemporaryDirectory(prefix="reconciler-demo-") as tmp:
            code = _loop(sb.base_url, sb.api_key, records, files, Path(tmp) / "state.json")
        patches = [r for r in sb.requests() if r.method == "PATCH"]
        click.echo(
            f"\nThe sandbox at {sb.base_url} received {len(sb.requests())} requests, "
            f"{len(patches)} of them PATCHes, each with only the changed fields:"
        )
        for r in patches:
            click.echo(f"  PATCH {r.path} {json.dumps(r.body, ensure_ascii=False)}")
    finally:
        sandbox.__exit__(None, None, None)
    return code


def _loop(
    base_url: str, key: str, records: list[DesiredRecord], files: dict[str, str], state_file: Path
) -> int:
    settings = ClientSettings(base_url=base_url, api_key=key)
    state = State.load(state_file)
    state.bind(base_url)
    color = color_for(sys.stdout)

    async def plan_once() -> PlanRun:
        async with ApiClient(settings) as client:
            return await compute_plan(client, records, state, files=files)

    _step(2, "plan (against the sandbox, seeded with drifted records)")
    first = asyncio.run(plan_once())
    click.echo(render(first.plan, "text", color=color), nl=False)

    _step(3, "apply --auto-approve")

    async def apply(stop: asyncio.Event) -> ApplyReport:
        async with ApiClient(settings) as client:
            options = ApplyOptions(allow_new_options=True, force=True)
            return await run_apply(
                client, first.plan, state, options, live=first.live.records, stop=stop
            )

    report, interrupted = run(apply)
    click.echo(render(Applied(first.plan, report), "text"), nl=False)
    if interrupted:
        return ExitCode.INTERRUPTED

    _step(4, "plan again: nothing left to change")
    second = asyncio.run(plan_once())
    click.echo(render(second.plan, "text", color=color), nl=False)
    if not report.ok or second.plan.has_changes or second.plan.errors:
        click.echo("The demo did not converge: see the messages above.", err=True)
        return ExitCode.ERROR
    return ExitCode.OK
