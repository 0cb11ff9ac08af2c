"""Reading a record's payload back: what counts as release-kit's, and what a status history means."""

from __future__ import annotations

import json

import pytest

from release_kit.records.payload import image_problem, parse_payload, succeeded
from tests.records.conftest import digest, payload


def test_payload_as_object_or_json_string_reads_the_same() -> None:
    as_object = parse_payload(payload("v1.4.0", snapshot="release-kit-v1-4-0-202612011230"))
    as_string = parse_payload(payload("v1.4.0", snapshot="release-kit-v1-4-0-202612011230", as_string=True))
    assert as_object is not None and as_object == as_string
    assert as_object.snapshot == "release-kit-v1-4-0-202612011230" and as_object.checks_passed


@pytest.mark.parametrize(
    "raw",
    [
        {},
        None,
        "not json {",
        "[1, 2]",
        {"deploy": "migrate"},
        {"release_kit": True, "images": {"api": "x@" + digest("a")}},
        {"release_kit": 2, "images": {"api": "ghcr.io/a/api@" + digest("a")}},
        {"release_kit": 1, "images": {}},
        {"release_kit": 1, "images": {"api": "ghcr.io/a/api:1.4.0"}},
        {"release_kit": 1, "images": {"api": "ghcr.io/a/api@" + digest("a")}, "checks": {"smoke": "maybe"}},
        {"release_kit": 1, "images": {"API\n::error::x": "ghcr.io/a/api@" + digest("a")}},
        {"release_kit": 1, "images": {"api": "ghcr.io/a/api@" + digest("a") + "\n::add-mask::x"}},
        {"release_kit": 1, "images": {"api": "ghcr.io/a/api@" + digest("a")}, "snapshot": "\n::warning::x"},
        {"release_kit": 1, "images": {"api": "ghcr.io/a/api@" + digest("a")}, "rollback_of": "12"},
        json.dumps({"release_kit": 1, "images": ["api"]}),
    ],
)
def test_foreign_or_malformed_payloads_are_not_ours(raw: object) -> None:
    assert parse_payload(raw) is None


@pytest.mark.parametrize(
    ("states", "good"),
    [
        (["success"], True),
        (["inactive", "success"], True),  # auto_inactive after a newer success: still good
        (["inactive", "inactive", "success", "in_progress", "pending"], True),
        (["failure", "success"], False),  # marked failed after it succeeded
        (["failure"], False),
        (["inactive", "failure"], False),
        (["in_progress"], False),
        ([], False),
    ],
)
def test_a_deployment_succeeded_when_its_newest_real_state_is_success(states: list[str], good: bool) -> None:
    assert succeeded(states) is good


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (f"ghcr.io/org/app/api@{digest('x')}", None),
        (f"ghcr.io/org/app/api:1.4.0@{digest('x')}", None),
        (f"127.0.0.1:5000/app/api@{digest('x')}", None),
        (f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app/api:v1@{digest('x')}", None),
        ("ghcr.io/org/app/api:1.4.0", "a tag without a digest can move"),
        ("ghcr.io/org/app/api", "a tag without a digest can move"),
        ("ghcr.io/org/app/api@sha256:abc", "the digest must be sha256:<64 lower-case hex>"),
        (f"ghcr.io/Org/App@{digest('x')}", "not a valid repository name"),
    ],
)
def test_image_references_must_pin_a_digest(ref: str, expected: str | None) -> None:
    problem = image_problem(ref)
    assert (problem is None) if expected is None else (problem is not None and expected in problem)
