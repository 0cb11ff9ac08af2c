"""The trusted roots bundles are verified against: Sigstore's public-good instance (the root shipped
with sigstore-python), GitHub's own instance (private repositories; its root refreshed through
GitHub's TUF repository, cached per user), or one ``--custom-trusted-root`` file for both.

GitHub's TUF repository is bootstrapped from the ``root.json`` shipped in ``data/`` (the one the
GitHub CLI embeds). Metadata that fails TUF verification (expired, rolled back, badly signed) is
never used. When the repository cannot be reached, the cache is used only if it still verifies
offline from the shipped root (every root version, then timestamp, snapshot and targets, none
expired, and the trusted root's hashes); the report says so. Nothing usable: GitHub-instance
bundles are ``unverifiable`` with the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release_kit.errors import InputError, MissingExtra, ReleaseKitError

if TYPE_CHECKING:
    from tuf.ngclient.fetcher import FetcherInterface

GITHUB_TUF_URL = "https://tuf-repo.github.com"
TRUSTED_ROOT_TARGET = "trusted_root.json"
TUF_URL_VARIABLE = "RELEASE_KIT_GITHUB_TUF_URL"  # a mirror; still verified from the shipped root.json
TUF_CACHE_VARIABLE = "RELEASE_KIT_TUF_CACHE"


def shipped_github_root() -> bytes:
    """GitHub's TUF ``root.json`` as the GitHub CLI embeds it (see ``data/README.md``)."""
    return resources.files("release_kit.attestations").joinpath("data/github-tuf-root.json").read_bytes()


def cache_dir() -> Path:
    """``$RELEASE_KIT_TUF_CACHE`` or ``$XDG_CACHE_HOME/release-kit/tuf/github`` (``~/.cache`` by default)."""
    if explicit := os.environ.get(TUF_CACHE_VARIABLE):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "release-kit" / "tuf" / "github"


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


# --- trusted root files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    """A Fulcio CA or a timestamp authority: its chain (leaf first) and when it may be used."""

    certificates: tuple[Any, ...]  # cryptography x509.Certificate, leaf (or intermediate) first, root last
    start: datetime | None
    end: datetime | None

    def valid_at(self, when: datetime) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None or when < self.end)


@dataclass(frozen=True)
class RootFile:
    """A Sigstore ``trusted_root.json``, read once: its path, and the authorities the
    timestamp-only verification (GitHub's instance) needs."""

    path: Path
    label: str
    fulcio: tuple[Authority, ...]
    tsas: tuple[Authority, ...]
    has_tlogs: bool

    def sigstore_root(self) -> Any:
        """sigstore-python's ``TrustedRoot`` for the same file (bundles with a transparency log entry)."""
        from sigstore.models import TrustedRoot

        return TrustedRoot.from_file(str(self.path))


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _authorities(items: Any) -> tuple[Authority, ...]:
    import base64

    from cryptography import x509

    out = []
    for item in items or []:
        chain = (item.get("certChain") or {}).get("certificates") or []
        certs = tuple(x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"])) for c in chain)
        if not certs:
            raise ValueError("a certificate authority without certificates")
        valid = item.get("validFor") or {}
        out.append(Authority(certs, _when(valid.get("start")), _when(valid.get("end"))))
    return tuple(out)


def read_root(path: Path, label: str) -> RootFile:
    """A trusted root file, checked: raises ``ValueError`` naming what is wrong."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("mediaType", "")).startswith(
        "application/vnd.dev.sigstore.trustedroot"
    ):
        raise ValueError("is not a Sigstore trusted root (mediaType application/vnd.dev.sigstore.trustedroot+json)")
    try:
        fulcio = _authorities(data.get("certificateAuthorities"))
        tsas = _authorities(data.get("timestampAuthorities"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"holds a certificate that cannot be read ({exc})") from None
    if not fulcio:
        raise ValueError("lists no certificate authority (certificateAuthorities)")
    return RootFile(path, label, fulcio, tsas, bool(data.get("tlogs")))


# --- GitHub's TUF repository -----------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    """The outcome of a refresh: the trusted root file, or why there is none; and a note for the report."""

    path: Path | None
    note: str


def http_fetcher(client: Any) -> FetcherInterface:
    """TUF downloads through release-kit's HTTP client (timeouts, the one retry policy)."""
    import httpx
    from tuf.api.exceptions import DownloadError, DownloadHTTPError
    from tuf.ngclient.fetcher import FetcherInterface

    class Fetcher(FetcherInterface):
        def _fetch(self, url: str) -> Iterator[bytes]:
            try:
                response = client.send(client.build_request("GET", url), stream=True)
            except (httpx.HTTPError, ReleaseKitError) as exc:
                raise DownloadError(f"{url}: {getattr(exc, 'message', None) or exc}") from exc
            if response.status_code != 200:
                response.close()
                raise DownloadHTTPError(f"{url}: HTTP {response.status_code}", response.status_code)

            def chunks() -> Iterator[bytes]:
                try:
                    yield from response.iter_bytes(64 * 1024)
                except httpx.HTTPError as exc:
                    raise DownloadError(f"{url}: {exc}") from exc
                finally:
                    response.close()

            return chunks()

    return Fetcher()


def _default_fetcher() -> FetcherInterface:
    from release_kit.http import make_client

    return http_fetcher(make_client(unreachable=f"GitHub's TUF repository ({TUF_URL_VARIABLE})"))


def refresh_github_root(
    *,
    url: str | None = None,
    cache: Path | None = None,
    bootstrap: bytes | None = None,
    fetcher: FetcherInterface | None = None,
    now: datetime | None = None,
) -> Refreshed:
    """GitHub's trusted root through TUF: refreshed when the repository answers, from the cache
    (verified offline) when it cannot be reached, never from metadata that fails verification."""
    try:
        from tuf.api import exceptions as tuf_errors
        from tuf.ngclient.config import UpdaterConfig
        from tuf.ngclient.updater import Updater
    except ImportError:
        raise MissingExtra("verify", "verifying attestations") from None
    url = (url or os.environ.get(TUF_URL_VARIABLE) or GITHUB_TUF_URL).rstrip("/")
    cache = cache or cache_dir()
    bootstrap = bootstrap if bootstrap is not None else shipped_github_root()
    try:
        _private_dir(cache)
        metadata_dir, targets_dir = _private_dir(cache / "metadata"), _private_dir(cache / "targets")
    except OSError as exc:
        return Refreshed(None, f"the TUF cache {cache} cannot be created: {exc.strerror or exc}")
    try:
        updater = Updater(
            metadata_dir=str(metadata_dir),
            metadata_base_url=url,
            target_dir=str(targets_dir),
            target_base_url=f"{url}/targets/",
            fetcher=fetcher or _default_fetcher(),
            config=UpdaterConfig(app_user_agent="release-kit"),
            bootstrap=bootstrap,
        )
        updater.refresh()
        info = updater.get_targetinfo(TRUSTED_ROOT_TARGET)
        if info is None:
            return Refreshed(None, f"{url} lists no {TRUSTED_ROOT_TARGET}: GitHub's trusted root is unavailable")
        target = updater.find_cached_target(info) or updater.download_target(info)
        return Refreshed(Path(target), f"GitHub's trusted root refreshed through TUF from {url}")
    except tuf_errors.DownloadError as exc:
        why = f"{url} cannot be reached ({_short(exc)})"
        try:
            path = verify_cache_offline(metadata_dir, targets_dir, bootstrap, now=now)
        except ValueError as stale:
            return Refreshed(None, f"{why} and the cache cannot be used: {stale}")
        return Refreshed(path, f"{why}: GitHub's trusted root from the cache (offline, TUF metadata still valid)")
    except tuf_errors.RepositoryError as exc:
        return Refreshed(None, f"GitHub's TUF metadata from {url} failed verification, not used: {_short(exc)}")
    except OSError as exc:
        return Refreshed(None, f"the TUF cache {cache} cannot be written: {exc.strerror or exc}")


def _short(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:240]


def verify_cache_offline(
    metadata_dir: Path, targets_dir: Path, bootstrap: bytes, *, now: datetime | None = None
) -> Path:
    """The TUF client workflow on cached files only: raises ``ValueError`` with the reason when the
    cache does not verify from ``bootstrap`` or any role has expired."""
    from tuf.api.exceptions import LengthOrHashMismatchError, UnsignedMetadataError
    from tuf.api.metadata import (  # type: ignore[attr-defined]
        Metadata,
        Root,
        Snapshot,
        Targets,
        Timestamp,
    )

    now = now or datetime.now(UTC)
    if not (metadata_dir / "timestamp.json").is_file():
        raise ValueError("nothing is cached (no refresh has succeeded with this cache)")
    try:
        root = Metadata[Root].from_bytes(bootstrap)
        while (next_root := metadata_dir / "root_history" / f"{root.signed.version + 1}.root.json").is_file():
            new = Metadata[Root].from_bytes(next_root.read_bytes())
            root.signed.verify_delegate(Root.type, new.signed_bytes, new.signatures)
            new.signed.verify_delegate(Root.type, new.signed_bytes, new.signatures)
            if new.signed.version != root.signed.version + 1:
                raise ValueError(f"root version {new.signed.version} where {root.signed.version + 1} was expected")
            root = new
        if root.signed.is_expired(now):
            raise ValueError(f"root metadata expired on {root.signed.expires:%Y-%m-%d}")
        timestamp = Metadata[Timestamp].from_bytes((metadata_dir / "timestamp.json").read_bytes())
        root.signed.verify_delegate(Timestamp.type, timestamp.signed_bytes, timestamp.signatures)
        if timestamp.signed.is_expired(now):
            raise ValueError(f"timestamp metadata expired on {timestamp.signed.expires:%Y-%m-%d %H:%M} UTC")
        raw_snapshot = (metadata_dir / "snapshot.json").read_bytes()
        snapshot = Metadata[Snapshot].from_bytes(raw_snapshot)
        root.signed.verify_delegate(Snapshot.type, snapshot.signed_bytes, snapshot.signatures)
        timestamp.signed.snapshot_meta.verify_length_and_hashes(raw_snapshot)
        if snapshot.signed.version != timestamp.signed.snapshot_meta.version or snapshot.signed.is_expired(now):
            raise ValueError("snapshot metadata is expired or not the one the timestamp names")
        raw_targets = (metadata_dir / "targets.json").read_bytes()
        targets = Metadata[Targets].from_bytes(raw_targets)
        root.signed.verify_delegate(Targets.type, targets.signed_bytes, targets.signatures)
        meta = snapshot.signed.meta.get("targets.json")
        if meta is None or targets.signed.version != meta.version or targets.signed.is_expired(now):
            raise ValueError("targets metadata is expired or not the one the snapshot names")
        meta.verify_length_and_hashes(raw_targets)
        info = targets.signed.targets.get(TRUSTED_ROOT_TARGET)
        if info is None:
            raise ValueError(f"the targets list no {TRUSTED_ROOT_TARGET}")
        path = targets_dir / TRUSTED_ROOT_TARGET
        info.verify_length_and_hashes(path.read_bytes())
        return path
    except FileNotFoundError as exc:
        raise ValueError(f"nothing cached ({Path(str(exc.filename)).name} missing)") from None
    except (UnsignedMetadataError, LengthOrHashMismatchError) as exc:
        raise ValueError(f"cached metadata does not verify ({_short(exc)})") from None
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"cached metadata cannot be read ({_short(exc)})") from None


# --- what one run trusts ---------------------------------------------------------------------


@dataclass
class Trust:
    """The roots one run verifies against, loaded on first use (a release signed only through
    the public-good instance never contacts GitHub's TUF repository).

    ``custom``: one trusted root for every bundle; no TUF request is made."""

    custom: Path | None = None
    tuf_url: str | None = None
    cache: Path | None = None
    bootstrap: bytes | None = None
    fetcher: FetcherInterface | None = None
    now: datetime | None = None
    notes: list[str] = field(default_factory=list)
    _custom_root: RootFile | None = field(default=None, init=False, repr=False)
    _github: tuple[RootFile | None, str] | None = field(default=None, init=False, repr=False)
    _public: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.custom is not None:
            try:
                self._custom_root = read_root(self.custom, f"the custom trusted root {self.custom.name}")
            except ValueError as exc:
                raise InputError(
                    f"--custom-trusted-root {self.custom}: {exc}",
                    hint="pass a Sigstore trusted_root.json, as `gh attestation verify --custom-trusted-root` takes",
                ) from None
            self.notes.append(f"every bundle verified against {self.custom} alone (--custom-trusted-root)")

    @property
    def custom_root(self) -> RootFile | None:
        return self._custom_root

    def github(self) -> tuple[RootFile | None, str]:
        """GitHub's instance root (or the custom one), or None and why not."""
        if self._custom_root is not None:
            return self._custom_root, ""
        if self._github is None:
            refreshed = refresh_github_root(
                url=self.tuf_url, cache=self.cache, bootstrap=self.bootstrap, fetcher=self.fetcher, now=self.now
            )
            root: RootFile | None = None
            note = refreshed.note
            if refreshed.path is not None:
                try:
                    root = read_root(refreshed.path, "GitHub's trusted root")
                except ValueError as exc:
                    note = f"GitHub's trusted root from TUF {exc}"
            self._github = (root, note)
            self.notes.append(note)
        return self._github

    def public_good_verifier(self) -> Any:
        """sigstore-python's verifier: the custom root, or the public-good root shipped with sigstore-python."""
        if self._public is None:
            try:
                from sigstore.verify import Verifier
            except ImportError:
                raise MissingExtra("verify", "verifying attestations") from None
            import logging

            logging.getLogger("sigstore").setLevel(logging.ERROR)
            if self._custom_root is not None:
                self._public = Verifier(trusted_root=self._custom_root.sigstore_root())
            else:
                self._public = Verifier.production(offline=True)  # the trust root shipped in the package
        return self._public
