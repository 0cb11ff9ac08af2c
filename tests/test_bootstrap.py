"""scripts/bootstrap: the private venv an action runs from."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "scripts" / "bootstrap"


def bootstrap(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "temp").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "RUNNER_TOOL_CACHE": str(tmp_path / "cache"),
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "GITHUB_PATH": str(tmp_path / "path"),
        **(env or {}),
    }
    return subprocess.run(["bash", str(BOOTSTRAP), *args], capture_output=True, text=True, env=env, timeout=600)


def test_creates_a_core_venv_once_and_reuses_it(tmp_path: Path) -> None:
    first = bootstrap(tmp_path)
    assert first.returncode == 0, first.stderr
    shim = Path(first.stdout.strip().splitlines()[-1])
    assert (tmp_path / "path").read_text().strip() == str(shim)  # only the entry point goes on PATH
    assert [p.name for p in shim.iterdir()] == ["release-kit"]
    version = subprocess.run([str(shim / "release-kit"), "--version"], capture_output=True, text=True, check=True)
    assert "release-kit, version" in version.stdout
    bindir = shim.parent / "bin"
    site = next((bindir.parent / "lib").glob("python3*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.iterdir()}
    assert "release_kit" in installed and "httpx" in installed
    assert not installed & {"boto3", "botocore", "azure", "pytest", "mypy"}  # only what verify-gates needs
    marker = bindir.parent / ".complete"
    stamp = marker.stat().st_mtime_ns
    second = bootstrap(tmp_path)
    assert second.returncode == 0 and Path(second.stdout.strip()) == shim
    assert marker.stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert bindir.parent.name.startswith("venv-") and bindir.parent.name.endswith("-core")


def test_unknown_extra_is_refused(tmp_path: Path) -> None:
    done = bootstrap(tmp_path, "gcp")
    assert done.returncode == 2 and "unknown extra 'gcp'" in done.stderr


def test_the_aws_extra_adds_boto3_in_its_own_venv(tmp_path: Path) -> None:
    done = bootstrap(tmp_path, "aws")
    assert done.returncode == 0, done.stderr
    venv = Path(done.stdout.strip().splitlines()[-1]).parent
    assert venv.name.endswith("-aws")
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import boto3, release_kit"], capture_output=True, check=False
    )
    assert check.returncode == 0, check.stderr


def test_a_source_change_gets_a_new_venv(tmp_path: Path) -> None:
    """Same lock, new code (a new action version): the cached build must not be reused."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "*.pyc", "__pycache__", ".*_cache"))
    env = {**os.environ, "RUNNER_TOOL_CACHE": str(tmp_path / "cache")}
    first = subprocess.run(
        ["bash", str(copy / "scripts/bootstrap")], capture_output=True, text=True, env=env, timeout=600
    )
    assert first.returncode == 0, first.stderr
    init = copy / "src" / "release_kit" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', '__version__ = "0.1.1"'))
    second = subprocess.run(
        ["bash", str(copy / "scripts/bootstrap")], capture_output=True, text=True, env=env, timeout=600
    )
    assert second.returncode == 0, second.stderr
    bindir = Path(second.stdout.strip().splitlines()[-1])
    assert bindir != Path(first.stdout.strip().splitlines()[-1])
    version = subprocess.run([str(bindir / "release-kit"), "--version"], capture_output=True, text=True, check=True)
    assert "0.1.1" in version.stdout


# -- shared runners: a planted or tampered environment is never run ---------------------------------

MARKER_TOKEN = "ghs_plantedMarkerToken0001"  # the job's token a planted release-kit would steal


def _stamp(venv: Path) -> None:
    """Write .complete the way bootstrap does: an attacker who read the script can forge it."""
    links = sorted(f"./{p.relative_to(venv)} -> {p.readlink()}" for p in venv.rglob("*") if p.is_symlink())
    files = sorted(
        (str(p.relative_to(venv)) for p in venv.rglob("*") if p.is_file() and not p.is_symlink()),
        key=lambda s: s.encode(),
    )
    files = [f for f in files if f != ".complete"]
    lines = [*links] + [f"{hashlib.sha256((venv / f).read_bytes()).hexdigest()}  ./{f}" for f in files]
    (venv / ".complete").write_text("\n".join(lines) + "\n")


def _hostile(venv: Path, marker: Path) -> None:
    """Make the planted release-kit (and a .pth any interpreter start runs) leave ``marker``."""
    entry = venv / "bin" / "release-kit"
    entry.unlink()
    entry.write_text(f'#!/bin/sh\necho "$GITHUB_TOKEN" > {marker}\necho "release-kit, version 6.6.6"\n')
    entry.chmod(0o755)
    site = next((venv / "lib").glob("python3*/site-packages"))
    steal = f"import os; open({str(marker)!r}, 'w').write(os.environ.get('GITHUB_TOKEN', ''))\n"
    (site / "zz-planted.pth").write_text(steal)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv bootstrap made, to copy into a shared cache under the name the next job will look for."""
    tmp = tmp_path_factory.mktemp("genuine")
    done = bootstrap(tmp)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1]).parent


def _run_next_step(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """What the user's next step does: run `release-kit` from PATH with the job's token around."""
    entries = (tmp_path / "path").read_text().split()
    assert len(entries) == 1
    shim = Path(entries[0])
    assert sorted(p.name for p in shim.iterdir()) == ["release-kit"]  # no python, pip or uv for later steps
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", "GITHUB_TOKEN": MARKER_TOKEN}
    return subprocess.run(["release-kit", "--version"], capture_output=True, text=True, env=env, check=False)


def _plant(genuine: Path, cache: Path, variant: str, marker: Path) -> Path:
    root = cache / f"release-kit-{os.getuid()}"
    if variant == "cache-is-a-symlink":
        elsewhere = cache.parent / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        root.parent.mkdir(parents=True, exist_ok=True)
        root.symlink_to(elsewhere)
    else:
        root.mkdir(parents=True, mode=0o700)
    venv = root / genuine.name
    shutil.copytree(genuine, venv, symlinks=True)
    _hostile(venv, marker)
    if variant != "tampered-after-stamp":
        _stamp(venv)  # a stamp that matches the planted files
    if variant == "world-writable-cache":
        root.chmod(0o777)
    elif variant == "group-writable-file":
        (venv / "bin" / "release-kit").chmod(0o775)
    elif variant in ("cache-owned-by-nobody", "venv-owned-by-nobody"):
        if os.getuid() != 0:
            pytest.skip("simulating another owner needs root (chown)")
        nobody = pwd.getpwnam("nobody").pw_uid
        top = root if variant == "cache-owned-by-nobody" else venv
        for path in [top, *top.rglob("*")]:
            os.lchown(path, nobody, -1)
    return venv


@pytest.mark.parametrize(
    "variant",
    [
        "world-writable-cache",
        "cache-owned-by-nobody",
        "cache-is-a-symlink",
        "venv-owned-by-nobody",
        "group-writable-file",
        "tampered-after-stamp",
    ],
)
def test_a_planted_venv_in_a_shared_cache_is_never_run(genuine: Path, tmp_path: Path, variant: str) -> None:
    marker = tmp_path / "PLANTED-RAN"
    planted = _plant(genuine, tmp_path / "cache", variant, marker)
    done = bootstrap(tmp_path, env={"GITHUB_TOKEN": MARKER_TOKEN})
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    step = _run_next_step(tmp_path)
    assert step.returncode == 0 and "release-kit, version 0.1.0" in step.stdout
    assert not marker.exists()  # neither the entry point nor a .pth of the planted venv ran
    used = Path(done.stdout.strip().splitlines()[-1]).parent
    assert used.stat().st_uid == os.getuid() and used.stat().st_mode & 0o777 == 0o700
    if variant in ("world-writable-cache", "cache-owned-by-nobody", "cache-is-a-symlink"):
        assert "is not a private folder of this user" in done.stderr
        assert used.parent.parent == tmp_path / "temp"  # built privately; the shared folder untouched
        assert (planted / "bin" / "release-kit").read_text().startswith("#!/bin/sh")
    else:
        assert used == planted and "rebuilding it" in done.stderr  # replaced, not run
    assert MARKER_TOKEN not in done.stdout + done.stderr


def test_a_reused_venv_is_still_verified_after_running(genuine: Path) -> None:
    """Running release-kit writes nothing into the venv, so the next job reuses it without a rebuild."""
    tmp = genuine.parent.parent.parent
    shim = genuine / "shim" / "release-kit"
    for args in (["--version"], ["publish-images", "--help"], ["verify-gates", "--help"]):
        assert subprocess.run([str(shim), *args], capture_output=True, check=False).returncode == 0
    stamp = (genuine / ".complete").stat().st_mtime_ns
    again = bootstrap(tmp)
    assert again.returncode == 0 and again.stderr == "" and Path(again.stdout.strip()) == genuine / "shim"
    assert (genuine / ".complete").stat().st_mtime_ns == stamp


def test_a_held_lock_is_waited_for_a_bounded_time_then_built_privately(tmp_path: Path) -> None:
    root = tmp_path / "cache" / f"release-kit-{os.getuid()}"
    root.mkdir(parents=True, mode=0o700)
    with (root / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a job that hangs while building
        started = time.monotonic()
        done = bootstrap(tmp_path, env={"RELEASE_KIT_BOOTSTRAP_WAIT": "1"})
        elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "waiting up to 1s for another job" in done.stderr and "building in a private temporary folder" in done.stderr
    assert Path(done.stdout.strip()).parent.parent.parent == tmp_path / "temp" and elapsed < 60
    assert _run_next_step(tmp_path).returncode == 0


def test_an_unreachable_index_is_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: connections are refused
    index = f"http://mirror-user:{MARKER_TOKEN}@127.0.0.1:{port}/simple"
    (tmp_path / "uv-cache").mkdir()
    done = bootstrap(
        tmp_path,
        env={
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
            "UV_DEFAULT_INDEX": index,
            "UV_INDEX_URL": index,
            "PIP_INDEX_URL": index,
            "UV_HTTP_RETRIES": "0",
        },
    )
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        f"bootstrap: cannot install release-kit's dependencies: the package index is unreachable "
        f"(http://127.0.0.1:{port}/simple)"
    )
    assert "UV_INDEX_URL" in lines[0] and "HTTPS_PROXY" in lines[0]
    assert MARKER_TOKEN not in done.stdout + done.stderr and "mirror-user" not in done.stderr
    assert not (tmp_path / "path").exists()


def test_without_uv_a_planted_uv_tool_is_not_run_and_pip_offline_is_one_line(tmp_path: Path) -> None:
    """No uv on PATH: bootstrap installs uv with pip from hashes into its private folder; an
    unstamped uv found there is removed, never run, and an unreachable index is the same one line."""
    import sys

    bindir = tmp_path / "bin"  # a PATH with python3 and the system tools, but no uv
    bindir.mkdir()
    (bindir / "python3").symlink_to(Path(sys.executable).resolve())
    marker = tmp_path / "UV-RAN"
    tools = tmp_path / "cache" / f"release-kit-{os.getuid()}" / "uv-tool"
    (tools / "bin").mkdir(parents=True)
    (tools.parent).chmod(0o700)
    (tools / "bin" / "uv").write_text(f'#!/bin/sh\necho "$GITHUB_TOKEN" > {marker}\n')
    (tools / "bin" / "uv").chmod(0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = bootstrap(
        tmp_path,
        env={
            "PATH": f"{bindir}:/usr/bin:/bin",
            "GITHUB_TOKEN": MARKER_TOKEN,
            "PIP_INDEX_URL": f"http://127.0.0.1:{port}/simple",
            "PIP_EXTRA_INDEX_URL": "",
            "PIP_FIND_LINKS": "",
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_RETRIES": "0",
            "PIP_NO_CACHE_DIR": "1",
        },
    )
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"the package index is unreachable (http://127.0.0.1:{port}/simple)" in lines[0]
    assert "PIP_INDEX_URL" in lines[0]
    assert not marker.exists() and not (tools / "bin" / "uv").exists()
