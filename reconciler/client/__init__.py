"""The API client: every HTTP request the reconciler makes goes through `ApiClient`.

`settings` validates where and how to connect (`ClientSettings`, from `COPERNIQ_API_URL` and
`COPERNIQ_API_KEY`; the key never over plain http except to loopback), `ratelimit` keeps requests
under the API's per-second limit, `api` sends, retries and counts, and `errors` is the `ApiError`
hierarchy every failure is reported through. Import from here; the submodules are a split for size.
"""

from typing import TYPE_CHECKING

from reconciler.client.api import USER_AGENT, ApiClient
from reconciler.client.ratelimit import RateLimiter
from reconciler.client.settings import (
    API_KEY_ENV,
    API_URL_ENV,
    BASE_PATHS,
    DEFAULT_API_URL,
    ClientSettings,
)
from reconciler.errors import (
    ApiError,
    ApiUnreachable,
    AuthError,
    NotFound,
    RateLimited,
    ServerError,
    ValidationFailed,
)

__all__ = [
    "API_KEY_ENV",
    "API_URL_ENV",
    "BASE_PATHS",
    "DEFAULT_API_URL",
    "USER_AGENT",
    "ApiClient",
    "ApiError",
    "ApiUnreachable",
    "AuthError",
    "ClientSettings",
    "NotFound",
    "RateLimited",
    "RateLimiter",
    "ServerError",
    "ValidationFailed",
]

if TYPE_CHECKING:
    from reconciler.protocol import Api

    def _is_the_core_api(client: ApiClient) -> Api:
        return client  # mypy proves here that ApiClient satisfies `protocol.Api`
