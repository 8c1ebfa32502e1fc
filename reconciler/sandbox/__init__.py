"""The sandbox: a faithful local emulator of the Coperniq Opportunities API.

A real HTTP server (uvicorn + Starlette) over SQLite that answers the routes, validation, limits
and errors described in shared/api/CONTRACT.md, plus faults on demand and a request log for
tests. It deliberately imports nothing from the reconciler's core: a fake that shares the code
under test shares its bugs.

    with run_sandbox(seed=generate(50), config=SandboxConfig(rate_per_second=5)) as sb:
        httpx.get(f"{sb.base_url}/opportunities", headers={"x-api-key": sb.api_key})
"""

from reconciler.sandbox.config import Faults, SandboxConfig
from reconciler.sandbox.errors import SandboxError, SeedError
from reconciler.sandbox.requestlog import LoggedRequest
from reconciler.sandbox.seed import Seed, generate, load_seed
from reconciler.sandbox.server import Sandbox, in_process_sandbox, run_sandbox, start_sandbox

__all__ = [
    "Faults",
    "LoggedRequest",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "Seed",
    "SeedError",
    "generate",
    "in_process_sandbox",
    "load_seed",
    "run_sandbox",
    "start_sandbox",
]
