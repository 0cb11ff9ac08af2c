"""publish-images as users run it: the CLI against real registries on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from release_kit.cli import run_cli
from tests.images.images import oci_layout, random_layer
from tests.images.server import PASSWORD, USER, registry
from tests.images.test_push import skopeo_digest
from tests.test_gha import parse_outputs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def layouts(tmp_path: Path) -> dict[str, Path]:
    base = [random_layer(50_000)]
    return {
        "api": oci_layout(tmp_path / "api.oci", [*base, random_layer(100)]),
        "web": oci_layout(tmp_path / "web.oci", [*base, random_layer(200)]),
    }


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[str]:
    with registry(tmp_path / "reg") as url:
        yield url


def test_push_two_images_report_and_skopeo_agree(
    plain: str, layouts: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = plain.removeprefix("http://")
    args = ["publish-images", "--registry", host, "--image-prefix", "my-org/agent-saas", "--tag", "1.4.0"]
    args += [f"--image=api={layouts['api']}", f"--image=web={layouts['web']}", "--format", "json"]
    args += ["--report", str(tmp_path / "report.json")]
    assert run_cli(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads((tmp_path / "report.json").read_text())
    api, web = report["images"]
    assert api["repository"] == f"{host}/my-org/agent-saas/api"
    assert api["references"] == [f"{api['repository']}:1.4.0", f"{api['repository']}@{api['digest']}"]
    assert api["blobs"] == {"uploaded": 3, "mounted": 0, "skipped": 0}
    assert web["blobs"] == {"uploaded": 1, "mounted": 2, "skipped": 0}
    assert skopeo_digest(plain, "my-org/agent-saas/web:1.4.0") == web["digest"]
    assert run_cli([*args[:-2]]) == 0  # a re-push uploads nothing
    again = json.loads(capsys.readouterr().out)
    assert [i["blobs"]["uploaded"] for i in again["images"]] == [0, 0]
    assert [i["digest"] for i in again["images"]] == [api["digest"], web["digest"]]


def test_action_inputs_outputs_and_tags_from_ref(
    plain: str, layouts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the way publish-images/action.yml does: every input as an RK_* variable."""
    action = yaml.safe_load((ROOT / "publish-images/action.yml").read_text())
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_REF", "refs/tags/v1.4.0")
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("RK_REGISTRY", plain.removeprefix("http://"))
    monkeypatch.setenv("RK_IMAGE_PREFIX", "agent-saas")
    monkeypatch.setenv("RK_IMAGES", f"api={layouts['api']} web={layouts['web']}")
    monkeypatch.setenv("RK_TAGS", "")
    monkeypatch.setenv("RK_TAG_FROM_REF", "true")
    monkeypatch.setenv("RK_REGISTRY_ENDPOINT", "")
    monkeypatch.setenv("RK_CREATE_REPOSITORIES", "true")
    monkeypatch.setenv("RK_LOCK_TAGS", "false")
    assert run_cli(["publish-images"]) == 0
    outputs = parse_outputs((tmp_path / "out").read_text())
    from_push = {name for name, out in action["outputs"].items() if "steps.push." in str(out["value"])}
    assert set(outputs) == from_push  # the attestations output comes from the attest steps after it
    assert json.loads(outputs["subjects"]) == [
        {"name": f"{plain.removeprefix('http://')}/agent-saas/{name}", "digest": json.loads(outputs["digests"])[name]}
        for name in ("api", "web")
    ]
    assert outputs["count"] == "2"
    digests = json.loads(outputs["digests"])
    assert outputs["api-digest"] == digests["api"] and outputs["web-digest"] == digests["web"]
    references = json.loads(outputs["references"])  # what deploy and record take, pinned by digest
    host = plain.removeprefix("http://")
    assert references == {name: f"{host}/agent-saas/{name}@{digests[name]}" for name in ("api", "web")}
    for tag in ("1.4.0", "1.4", "1", "latest", "sha-0123456"):
        assert skopeo_digest(plain, f"agent-saas/api:{tag}") == digests["api"]
    assert digests["api"] in (tmp_path / "summary.md").read_text()


def test_ghcr_through_an_endpoint_with_github_token(
    layouts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry(tmp_path / "reg", auth="htpasswd") as url:
        monkeypatch.setenv("GITHUB_ACTOR", USER)
        monkeypatch.setenv("GITHUB_TOKEN", PASSWORD)
        args = ["publish-images", "--registry", "ghcr.io", "--registry-endpoint", url, "--image-prefix", "octo-org/app"]
        args += [f"--image=api={layouts['api']}", "--tag", "v1"]
        assert run_cli(args) == 0
        out = capsys.readouterr().out
        assert "ghcr.io/octo-org/app/api@sha256:" in out and PASSWORD not in out
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrongTokenValue123")
        assert run_cli(args) == 2
        captured = capsys.readouterr()
        assert "answered 401" in captured.err and "ghp_wrongTokenValue123" not in captured.out + captured.err


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--image-prefix", "my_org/-app"], "--image-prefix 'my_org/-app': not a valid repository path"),
        (["--registry", "https://ghcr.io"], "--registry 'https://ghcr.io': expected a bare host[:port]"),
        (["--image", "api"], "--image 'api': expected NAME=PATH"),
        (["--image", "api=missing.oci"], "--image missing.oci: no such file or folder"),
        (["--tag", "-bad"], "--tag '-bad': expected up to 128"),
        (["--registry-endpoint", "http://registry.example.com"], "plain HTTP is only allowed to a loopback registry"),
    ],
)
def test_bad_input_exits_2_before_any_push(
    layouts: dict[str, Path], capsys: pytest.CaptureFixture[str], extra: list[str], expected: str
) -> None:
    base = {"--registry": "127.0.0.1:1", "--image-prefix": "org/app", "--image": f"api={layouts['api']}", "--tag": "1"}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        base[flag] = value
    args = ["publish-images"] + [x for kv in base.items() for x in kv]
    assert run_cli(args) == 2  # port 1 is never contacted: validation comes first
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_a_403_on_upload_names_the_missing_permission(
    layouts: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    from release_kit.images import run as publish_run

    def ghcr(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(404)
        return httpx.Response(403, json={"errors": [{"code": "DENIED", "message": "permission_denied"}]})

    monkeypatch.setenv("GITHUB_TOKEN", "ghs_readOnlyToken0001")
    from release_kit.errors import AccessError

    with pytest.raises(AccessError) as info:
        publish_run.run(
            registry="ghcr.io",
            image_prefix="octo-org/app",
            images=[f"api={layouts['api']}"],
            tags=["1"],
            tag_from_ref=False,
            registry_endpoint=None,
            create_repositories=True,
            report_path=None,
            fmt="text",
            transport=httpx.MockTransport(ghcr),
        )
    line = info.value.one_line()
    assert "denied POST /v2/octo-org/app/api/blobs/uploads/ (403)" in line
    assert "permissions: packages: write" in line and "write:packages" in line
    assert "ghs_readOnlyToken0001" not in line


def test_username_password_inputs_log_in_masked_upper_case_prefix_and_any_tag(
    layouts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The action's username/password inputs reach the login; `${{ github.repository }}` as the prefix
    and a tag that is not v<semver> both just work."""
    with registry(tmp_path / "reg", auth="htpasswd") as url:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
        monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
        monkeypatch.setenv("GITHUB_REF", "refs/tags/release-2024.06/rc")
        monkeypatch.setenv("RK_REGISTRY", url.removeprefix("http://"))
        monkeypatch.setenv("RK_IMAGE_PREFIX", "Octo-Org/Agent-SaaS")
        monkeypatch.setenv("RK_IMAGES", f"api={layouts['api']} worker={layouts['web']}")
        monkeypatch.setenv("RK_TAG_FROM_REF", "true")
        monkeypatch.setenv("RK_USERNAME", "")
        monkeypatch.setenv("RK_PASSWORD", "")
        assert run_cli(["publish-images"]) == 2  # no credentials: the registry answers 401
        capsys.readouterr()
        monkeypatch.setenv("RK_USERNAME", USER)
        monkeypatch.setenv("RK_PASSWORD", PASSWORD)
        assert run_cli(["publish-images"]) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[0] == f"::add-mask::{PASSWORD}"  # masked before anything else is printed
        assert PASSWORD not in "\n".join(out.splitlines()[1:])
        assert (
            "::notice title=release-kit publish-images::--image-prefix 'Octo-Org/Agent-SaaS' lower-cased to "
            "'octo-org/agent-saas'" in out
        )
        digests = json.loads(parse_outputs((tmp_path / "out").read_text())["digests"])
        assert set(digests) == {"api", "worker"}  # names other than api/web are reached through `digests`
        creds = f"{USER}:{PASSWORD}"
        assert skopeo_digest(url, "octo-org/agent-saas/worker:release-2024.06-rc", creds) == digests["worker"]


@pytest.mark.parametrize(("given", "missing"), [("RK_USERNAME", "password"), ("RK_PASSWORD", "username")])
def test_username_without_password_is_refused(
    layouts: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: str,
    missing: str,
) -> None:
    monkeypatch.setenv(given, "only-one-of-them")
    args = ["publish-images", "--registry", "127.0.0.1:1", "--image-prefix", "org/app", "--tag", "1"]
    assert run_cli([*args, f"--image=api={layouts['api']}"]) == 2
    err = capsys.readouterr().err
    assert f"the {missing} input is empty: give both username and password, or neither" in err


def test_attest_checks_before_any_push_that_the_job_can_sign_four_images_at_most(
    plain: str, layouts: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    host = plain.removeprefix("http://")
    base = ["publish-images", "--registry", host, "--image-prefix", "org/app", "--tag", "1", "--attest"]
    five = [f"--image=img{i}={layouts['api']}" for i in range(5)]
    assert run_cli([*base, *five]) == 2
    assert "--attest: 5 images, the action attests up to 4" in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL", raising=False)  # no id-token: write
    assert run_cli([*base, f"--image=api={layouts['api']}"]) == 2
    captured = capsys.readouterr()
    assert "cannot sign attestations" in captured.out + captured.err
    assert "id-token: write" in captured.out + captured.err
    for name in ("api", "img0"):  # nothing was pushed
        assert httpx.get(f"{plain}/v2/org/app/{name}/tags/list").status_code == 404


def test_attest_push_to_registry_needs_a_runner_logged_in_to_the_registry_before_any_push(
    plain: str,
    layouts: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import httpx

    host = plain.removeprefix("http://")
    docker = tmp_path / "docker"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    args = ["publish-images", "--registry", host, "--image-prefix", "org/app", "--tag", "1", "--attest",
            "--attest-push-to-registry", f"--image=api={layouts['api']}"]  # fmt: skip
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    assert f"not logged in to {host}" in err and "docker/login-action" in err
    assert httpx.get(f"{plain}/v2/org/app/api/tags/list").status_code == 404  # nothing pushed
    (docker / "config.json").write_text(json.dumps({"auths": {host: {"auth": "dXNlcjpwYXNz"}}}))
    assert run_cli(args) == 0
    assert "dXNlcjpwYXNz" not in capsys.readouterr().out  # the credential is never read out
    assert run_cli(["publish-images", "--registry", host, "--image-prefix", "org/app", "--tag", "1",
                    "--attest-push-to-registry", f"--image=api={layouts['api']}"]) == 2  # fmt: skip
    assert "--attest-push-to-registry goes with --attest" in capsys.readouterr().err
