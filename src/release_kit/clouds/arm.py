"""Azure Resource Manager through the azure-mgmt-* SDKs (extra ``azure``, imported lazily).

One credential, one endpoint, one retry budget and one error mapping for every capability that
manages Azure resources. azure-core retries 408/429/5xx and connection errors itself (honouring
``Retry-After``); we configure it to the project's budget and do not stack a second loop on it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from release_kit import gha
from release_kit.errors import AccessError, InputError, NotFoundError, RemoteError, RemoteGaveUp

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
RETRY_TOTAL = 5
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 30
INSTALL_HINT = "install release-kit with the azure extra, or use the action, which does"
NO_CREDENTIALS_FIX = (
    "on a laptop run `az login`; in Actions sign in with azure/login (OIDC: AZURE_CLIENT_ID, AZURE_TENANT_ID and "
    "id-token: write), or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET"
)

C = TypeVar("C")


class TokenCredential(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


def arm_endpoint(flag: str | None = None) -> str:
    """``--arm-endpoint``, else ``AZURE_ARM_ENDPOINT``, else the public cloud's."""
    endpoint = (flag or os.environ.get("AZURE_ARM_ENDPOINT") or DEFAULT_ARM_ENDPOINT).rstrip("/")
    if not endpoint.startswith("https://") and not endpoint.startswith(("http://127.0.0.1", "http://localhost")):
        raise InputError(f"--arm-endpoint {endpoint!r}: expected an https:// URL such as {DEFAULT_ARM_ENDPOINT}")
    return endpoint


def default_credential() -> TokenCredential:
    """azure-identity's chain: environment service principal, workload identity (azure/login OIDC), Azure CLI."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise InputError(f"Azure needs azure-identity, which is not installed ({INSTALL_HINT})") from None
    gha.mask(os.environ.get("AZURE_CLIENT_SECRET"))
    if os.environ.get("RELEASE_KIT_DEBUG") != "1":  # the chain logs every credential it tried: our one line says it
        logging.getLogger("azure.identity").setLevel(logging.CRITICAL)
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


class Arm:
    """Management clients for one subscription, sharing one credential and endpoint."""

    def __init__(
        self, subscription: str, *, credential: TokenCredential | None = None, endpoint: str | None = None
    ) -> None:
        self.subscription = subscription
        self.endpoint = arm_endpoint(endpoint)
        self._credential = credential
        self._clients: dict[Any, Any] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self._count_lock = threading.Lock()

    @property
    def credential(self) -> TokenCredential:
        if self._credential is None:
            self._credential = default_credential()
        return self._credential

    def client(self, cls: Callable[..., C]) -> C:
        """An SDK client (``ContainerAppsAPIClient``…) for this subscription and endpoint."""
        with self._lock:
            key: Any = cls
            if key not in self._clients:
                self._clients[key] = cls(
                    self.credential,
                    self.subscription,
                    base_url=self.endpoint,
                    credential_scopes=[f"{self.endpoint}/.default"],
                    retry_total=RETRY_TOTAL,
                    connection_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                )
            return self._clients[key]  # type: ignore[no-any-return]

    def secrets(self, vault_url: str) -> Any:
        """A Key Vault ``SecretClient`` for one vault (``https://NAME.vault.azure.net``), with this
        credential and the same retry budget. Its challenge policy asks the credential for the vault's
        own scope and refuses a challenge naming another domain. Callers check the vault's host first.
        """
        with self._lock:
            key = ("key-vault", vault_url)
            if key not in self._clients:
                try:
                    from azure.keyvault.secrets import SecretClient
                except ImportError:
                    raise InputError(
                        f"Key Vault needs azure-keyvault-secrets, which is not installed ({INSTALL_HINT})"
                    ) from None
                self._clients[key] = SecretClient(
                    vault_url,
                    self.credential,
                    retry_total=RETRY_TOTAL,
                    connection_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                )
            return self._clients[key]

    def call(
        self,
        what: str,
        role: str,
        fn: Callable[..., Any],
        *,
        missing_ok: bool = False,
        where: str = "on the resource group",
        **kwargs: Any,
    ) -> Any:
        """``fn(**kwargs)``, counted; see :func:`call`."""
        with self._count_lock:
            self.calls += 1
        return call(what, role, fn, missing_ok=missing_ok, where=where, **kwargs)


def call(
    what: str,
    role: str,
    fn: Callable[..., Any],
    *,
    missing_ok: bool = False,
    where: str = "on the resource group",
    **kwargs: Any,
) -> Any:
    """Make one ARM call. ``what`` names it for people (``read container app agent-api``); ``role``
    is the least Azure role that allows it (``Reader``), ``where`` where to assign it.

    A 404 returns None with ``missing_ok``, else is exit 2; 401/403 exit 2 naming the role; 429 and
    5xx that outlived azure-core's retries, and network failures, exit 3. A request that must not be
    re-sent passes ``retry_total=0`` (azure-core's per-request setting), which azure-core honours.
    """
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    try:
        return fn(**kwargs)
    except ResourceNotFoundError:
        if missing_ok:
            return None
        raise NotFoundError(f"Azure has no such resource: cannot {what}") from None
    except ClientAuthenticationError as exc:
        status = getattr(exc, "status_code", None)
        if status == 403:
            raise AccessError(f"Azure denied: cannot {what}", hint=f"assign the {role} role {where}") from None
        raise AccessError(f"no usable Azure credentials to {what}", hint=NO_CREDENTIALS_FIX) from None
    except HttpResponseError as exc:
        status = exc.status_code or 0
        code = getattr(getattr(exc, "error", None), "code", None) or ""
        if status == 404:
            if missing_ok:
                return None
            raise NotFoundError(f"Azure has no such resource: cannot {what}") from None
        if status in (401, 403):
            raise AccessError(
                f"Azure denied: cannot {what} ({code or status})", hint=f"assign the {role} role {where}"
            ) from None
        if status in (408, 429) or status >= 500:
            retries = kwargs.get("retry_total", RETRY_TOTAL)
            if not retries:  # a request that is not safe to repeat (a start without idempotency token)
                raise RemoteGaveUp(f"Azure failed to {what}: HTTP {status} (sent once: not safe to re-send)") from None
            raise RemoteGaveUp(f"Azure kept failing to {what} after {retries} retries: HTTP {status}") from None
        message = " ".join(str(getattr(getattr(exc, "error", None), "message", "") or "").split())[:300]
        raise RemoteError(f"Azure refused to {what}: {code or status} {message}".rstrip()) from None
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise RemoteGaveUp(
            f"Azure did not answer: cannot {what} ({type(exc).__name__})",
            hint="check the network, --arm-endpoint / AZURE_ARM_ENDPOINT and any proxy",
        ) from None
