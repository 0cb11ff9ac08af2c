"""Digest-pinned references, --image pairs and --images-from (publish-images' report)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release_kit.cli import run_cli
from release_kit.errors import InputError
from release_kit.rollout.images import ImageRef, images_from_report, parse_image, parse_image_pairs

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"ghcr.io/my-org/agent-saas/api@{D}", ImageRef("ghcr.io/my-org/agent-saas/api", D)),
        (f"ghcr.io/my-org/agent-saas/api:1.4.0@{D}", ImageRef("ghcr.io/my-org/agent-saas/api", D, "1.4.0")),
        (f"127.0.0.1:5000/api:v1@{D}", ImageRef("127.0.0.1:5000/api", D, "v1")),
        (f"api@{D}", ImageRef("api", D)),
    ],
)
def test_pinned_references_parse_and_print_back(text: str, expected: ImageRef) -> None:
    assert parse_image(text) == expected
    assert str(parse_image(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ghcr.io/my-org/api:1.4.0", "not pinned to a digest"),
        ("ghcr.io/my-org/api", "not pinned to a digest"),
        ("ghcr.io/my-org/api@sha256:abc", "64 lower-case hex"),
        (f"ghcr.io/my-org/api@sha512:{'a' * 64}", "64 lower-case hex"),
        (f"ghcr.io/My-Org/api@{D}", "not a valid repository"),
        (f"ghcr.io/my-org/api:-bad@{D}", "not a valid tag"),
    ],
)
def test_anything_else_is_refused_naming_the_flag(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_image(text)
    assert caught.value.one_line().startswith("--image ")


def test_pairs_keep_the_order_given_and_refuse_unknown_or_repeated_roles() -> None:
    pairs = parse_image_pairs((f"web=r/web@{D}", f"api=r/api@{D}"))
    assert list(pairs) == ["web", "api"]
    with pytest.raises(InputError, match="unknown role 'cron'"):
        parse_image_pairs((f"cron=r/c@{D}",))
    with pytest.raises(InputError, match="given twice"):
        parse_image_pairs((f"api=r/a@{D} api=r/b@{D}",))
    with pytest.raises(InputError, match=r"--image web .r/web:1\.4\.0.: a tag without a digest can move"):
        parse_image_pairs(("web=r/web:1.4.0",))


def test_the_publish_report_gives_api_then_web_and_lists_other_images(tmp_path: Path) -> None:
    report = tmp_path / "publish.json"
    report.write_text(
        json.dumps(
            {
                "registry": "ghcr.io",
                "images": [
                    {"name": "web", "repository": "ghcr.io/o/app/web", "digest": D, "tags": ["1.4.0"]},
                    {"name": "docs", "repository": "ghcr.io/o/app/docs", "digest": D},
                    {"name": "api", "repository": "ghcr.io/o/app/api", "digest": D},
                ],
            }
        )
    )
    images, others = images_from_report(report)
    assert list(images) == ["api", "web"]
    assert str(images["api"]) == f"ghcr.io/o/app/api@{D}"
    assert others == ["docs"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"images": {}}', "no images list"),
        ('{"images": [{"name": "api", "repository": "r/api"}]}', "needs string name, repository and digest"),
        ('{"images": [{"name": "api", "repository": "r/api", "digest": "sha256:1"}]}', "64 lower-case hex"),
        ('{"images": [{"name": "docs", "repository": "r/d", "digest": "' + D + '"}]}', "no image named api"),
    ],
)
def test_a_bad_publish_report_is_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        images_from_report(path)


def test_the_cli_refuses_a_tag_without_a_digest_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(
        ["deploy", "--platform", "ecs", "--cluster", "c", "--service", "api=a", "--image", "api=ghcr.io/o/api:1.4.0"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--image api 'ghcr.io/o/api:1.4.0': a tag without a digest can move" in err[0]
    assert "Traceback" not in err[0]


def test_the_cli_refuses_both_image_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text("{}")
    assert run_cli(["deploy", "--image", f"api=r/a@{D}", "--images-from", str(path)]) == 2
    assert "give one of them" in capsys.readouterr().err
