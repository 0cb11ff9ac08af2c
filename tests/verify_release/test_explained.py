"""verify-release says which rule failed, in the text, the annotations and the summary; the
identity options are checked before anything is fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_kit.attestations.identity import IdentityPolicy
from release_kit.cli import run_cli
from release_kit.errors import InputError
from tests.fakes.github import FakeGitHub, serve
from tests.verify_release.test_verify_release import ARTIFACT, SIGNER, verify
from tests.verify_release.test_verify_release import fake as fake

RULE = "provenance attestation: source ref is 'refs/heads/main', expected 'refs/tags/v1.0.0'"


def test_text_output_names_the_failed_rule(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = verify(fake, tmp_path, source_ref=None)  # default refs/tags/v1.0.0; it was built from main
    assert code == 1
    out = capsys.readouterr().out
    assert "no valid https://slsa.dev/provenance/v1 attestation" in out and RULE in out
    assert "signed subject digest" not in out  # the other subject's bundle is not blamed for this rule


def test_annotations_and_summary_name_the_failed_rule(
    fake: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, _ = verify(fake, tmp_path, source_ref=None)
    assert code == 1
    out = capsys.readouterr().out
    error = next(line for line in out.splitlines() if line.startswith("::error "))
    assert f"title={ARTIFACT}%3A unverified::" in error and RULE in error
    assert RULE in summary.read_text()


def test_a_verified_asset_lists_no_rules(fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = verify(fake, tmp_path)
    out = capsys.readouterr().out
    assert code == 0 and "provenance attestation:" not in out and "\nattestation:" not in out


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        (
            "--source-ref",
            "v1.0.0",
            "--source-ref 'v1.0.0': expected a full ref or 'any' (for a tag write refs/tags/v1.0.0",
        ),
        ("--source-ref", "main", "for a branch refs/heads/main"),
        ("--signer-workflow", "octo-org/app", "--signer-workflow 'octo-org/app': expected [HOST/]OWNER/REPO/PATH"),
        ("--signer-workflow", f"{SIGNER}@refs/heads/main", "leave out @REF; the ref is checked by --source-ref"),
        ("--signer-workflow", f"https://github.com/{SIGNER}", "leave out the https:// scheme"),
    ],
)
def test_identity_options_are_checked_before_any_request(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    value: str,
    expected: str,
) -> None:
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        code = run_cli(["verify-release", "--repo", fake.full_name, "--tag", "v1.0.0", flag, value])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    assert fake.requests == []


@pytest.mark.parametrize(
    ("source_ref", "signer"),
    [
        ("any", None),
        ("refs/heads/main", "octo-org/app/.github/workflows/release.yml"),
        (None, "ghe.example.com/octo-org/app/.github/workflows/release.yaml"),
    ],
)
def test_well_formed_identity_options_pass(source_ref: str | None, signer: str | None) -> None:
    policy = IdentityPolicy.from_options(
        repository="octo-org/app", tag="v1", signer_workflow=signer, source_ref=source_ref, oidc_issuer=None,
        allow_self_hosted=False,
    )  # fmt: skip
    assert policy.source_ref == (None if source_ref == "any" else source_ref or "refs/tags/v1")


def test_release_publish_checks_them_too() -> None:
    with pytest.raises(InputError, match="--source-ref 'tags/v1'"):
        IdentityPolicy.from_options(
            repository="o/r", tag="v1", signer_workflow=None, source_ref="tags/v1", oidc_issuer=None,
            allow_self_hosted=False,
        )  # fmt: skip
