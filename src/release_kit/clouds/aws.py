"""AWS through boto3 (extra ``aws``, imported lazily): one client factory and one error mapping.

Every capability that talks to AWS gets its clients from :class:`Aws` and makes its calls through
:func:`call`, so retries, timeouts and what an AWS error means for the exit code live in one place.
botocore retries throttling, 5xx and connection errors itself ("standard" mode); we do not stack a
second retry loop on it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from release_kit import gha
from release_kit.errors import AccessError, InputError, RemoteError, RemoteGaveUp

RETRY_ATTEMPTS = 5  # attempts in all (the first included), botocore's "standard" mode: throttling, 5xx, network errors
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 30

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
}
_GAVE_UP = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "ServerException",
}

INSTALL_HINT = "install release-kit with the aws extra, or use the action, which does"


def mask_environment_credentials(env: dict[str, str] | None = None) -> None:
    """Mask the AWS secrets the standard chain will read, before anything can print them."""
    source = env if env is not None else os.environ
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        gha.mask(source.get(name))


class Aws:
    """boto3 clients for one region, made from one private session (thread-safe once made)."""

    def __init__(self, region: str) -> None:
        try:
            import boto3
        except ImportError:
            raise InputError(f"AWS needs boto3, which is not installed ({INSTALL_HINT})") from None
        mask_environment_credentials()
        self.region = region
        self._session = boto3.session.Session(botocore_session=_botocore_session(), region_name=region)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.calls = 0  # requests made through call(); read by reports
        self._count_lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        """A client for ``service`` in this region, or in ``region`` (a resource's ARN may name another)."""
        from botocore.config import Config

        key = service if region in (None, self.region) else f"{service}@{region}"
        with self._lock:
            if key not in self._clients:
                config = Config(
                    retries={"total_max_attempts": RETRY_ATTEMPTS, "mode": "standard"},
                    connect_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                    user_agent_extra="release-kit",
                    max_pool_connections=20,
                )
                self._clients[key] = self._session.client(service, config=config, region_name=region or self.region)
            return self._clients[key]

    def call(self, action: str, fn: Callable[..., Any], *, missing: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """``fn(**kwargs)``, counted; see :func:`call`."""
        with self._count_lock:
            self.calls += 1
        return call(action, fn, missing=missing, **kwargs)


_loader: Any = None
_loader_lock = threading.Lock()


def _botocore_session() -> Any:
    """A fresh botocore session sharing one data loader, so service models are parsed once per process."""
    import botocore.session
    from botocore.loaders import create_loader

    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = create_loader()
    session = botocore.session.get_session()
    session.register_component("data_loader", _loader)
    return session


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def call(action: str, fn: Callable[..., Any], *, missing: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """Make one AWS call; ``action`` is its IAM action (``ecs:DescribeServices``).

    Returns None when the error code is one of ``missing`` (the caller's "not found"). A denied
    permission is exit 2 naming ``action``; bad credentials exit 2; throttling, 5xx and network
    failures that outlived botocore's retries exit 3; any other refusal exit 2 with AWS's code.
    """
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )
    from botocore.exceptions import ConnectionError as NetworkError

    try:
        return fn(**kwargs)
    except (NoCredentialsError, PartialCredentialsError):
        raise AccessError(
            f"no AWS credentials for {action}",
            hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or assume a role with "
            "aws-actions/configure-aws-credentials (id-token: write)",
        ) from None
    except NoRegionError:
        raise InputError("no AWS region: set deploy.region, or AWS_REGION / AWS_DEFAULT_REGION") from None
    except ClientError as exc:
        code = error_code(exc)
        if code in missing:
            return None
        message = " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())[:300]
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _DENIED:
            raise AccessError(
                f"AWS denied {action} ({code})", hint=f"allow {action} for the credentials this job uses"
            ) from None
        if code in _BAD_CREDENTIALS:
            raise AccessError(
                f"AWS refused the credentials for {action} ({code})", hint="check the AWS credentials"
            ) from None
        if code in _GAVE_UP or status >= 500:
            raise RemoteGaveUp(f"AWS kept failing {action} after {RETRY_ATTEMPTS} attempts: {code}") from None
        raise RemoteError(f"AWS refused {action}: {code}: {message}") from None
    except (NetworkError, HTTPClientError) as exc:  # HTTPClientError: a connection closed or reset mid-answer
        raise RemoteGaveUp(
            f"AWS did not answer {action}: {type(exc).__name__}",
            hint="check the network, AWS_ENDPOINT_URL and any proxy",
        ) from None
    except BotoCoreError as exc:
        raise RemoteError(f"AWS {action} failed: {type(exc).__name__}: {exc}") from None
