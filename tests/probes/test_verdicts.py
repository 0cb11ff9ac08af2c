"""The pure health verdicts: one answer judged, and the reason a failed endpoint gets."""

from __future__ import annotations

import json

import pytest

from release_kit.errors import InputError
from release_kit.probes.verdicts import (
    BODY_LIMIT,
    Attempt,
    Expectations,
    compile_expr,
    evaluate,
    parse_expect_json,
    show,
    summarize,
)

READY = json.dumps({"status": "ready", "version": "1.4.0", "checks": {"db": True}}).encode()


def expect(*checks: str, version: str | None = None, statuses: frozenset[int] = frozenset({200})) -> Expectations:
    return Expectations(
        statuses=statuses,
        json=tuple(parse_expect_json(c) for c in checks),
        version=version,
        version_expr=compile_expr("version", "--version-field"),
    )


def test_a_ready_answer_passes_every_check() -> None:
    attempt = evaluate(200, {}, READY, False, expect("status=ready", "checks.db=true", version="1.4.0"))
    assert attempt.ok and attempt.status == 200


@pytest.mark.parametrize(
    ("status", "headers", "body", "exp", "reason"),
    [
        (200, {}, b'{"status": "degraded"}', expect("status=ready"), 'json status = "degraded", expected "ready"'),
        (200, {}, READY, expect(version="1.5.0"), "version 1.4.0, expected 1.5.0"),
        (200, {}, b"{}", expect(version="1.5.0"), "no version in the body, expected 1.5.0"),
        (200, {}, b"<html>ok</html>", expect("status=ready"), "body is not JSON"),
        (404, {}, b"", expect(), "status 404, expected 200"),
        (503, {}, b"", expect(statuses=frozenset({200, 204})), "status 503, expected 200 or 204"),
        (302, {"location": "/login"}, b"", expect(), "redirect 302 to /login (not followed)"),
        (301, {}, b"", expect(), "redirect 301 with no Location (not followed)"),
    ],
)
def test_a_failed_answer_says_what_it_saw(
    status: int, headers: dict[str, str], body: bytes, exp: Expectations, reason: str
) -> None:
    attempt = evaluate(status, headers, body, False, exp)
    assert not attempt.ok and attempt.reason == reason and attempt.status == status


def test_a_redirect_fails_even_when_3xx_is_not_expected_to_pass() -> None:
    assert not evaluate(302, {"location": "/x"}, b"", False, expect(statuses=frozenset({302}))).ok


def test_a_cut_off_body_is_not_judged_green() -> None:
    attempt = evaluate(200, {}, READY, True, expect("status=ready"))
    assert not attempt.ok and f"over {BODY_LIMIT // 1024} KiB" in attempt.reason
    assert evaluate(200, {}, READY, True, expect()).ok  # status only: the body does not matter


def test_remote_text_cannot_steer_the_output() -> None:
    attempt = evaluate(302, {"location": "/x\n::error::pwned"}, b"", False, expect())
    assert "\n" not in attempt.reason and "\\n::error" in attempt.reason
    assert len(show("a" * 500)) == 80


@pytest.mark.parametrize(
    ("item", "expr", "value"),
    [
        ("status=ready", "status", "ready"),
        ("checks.db=true", "checks.db", True),
        ('status="ready"', "status", "ready"),
        ("replicas=3", "replicas", 3),
        ("a=b=c", "a", "b=c"),
        ("length(items[?x=='y'])=1", "length(items[?x=='y'])", 1),
    ],
)
def test_expect_json_splits_at_the_right_equals_sign(item: str, expr: str, value: object) -> None:
    check = parse_expect_json(item)
    assert (check.expr, check.value) == (expr, value)


@pytest.mark.parametrize("item", ["status", "=ready", "status[=x"])
def test_a_malformed_expect_json_is_an_input_error(item: str) -> None:
    with pytest.raises(InputError, match="--expect-json"):
        parse_expect_json(item)


def test_the_reason_counts_the_most_common_failure_among_the_last_answers() -> None:
    old = Attempt(False, "version 1.3.9, expected 1.4.0", 200)
    new = Attempt(True, "status 200", 200)
    assert summarize([old, new, old, new, old], 3) == (
        "version 1.3.9, expected 1.4.0 (3 of the last 5 answers); never 3 passing answers in a row"
    )
    degraded = Attempt(False, 'json status = "degraded", expected "ready"', 200)
    assert summarize([degraded] * 5, 3) == 'json status = "degraded", expected "ready"'
    assert summarize([], 3) == "no attempt finished before the deadline"
    assert "2 passing answer(s) in a row" in summarize([new, new], 3)


def test_a_value_nested_as_deep_as_json_allows_is_shown_without_exhausting_the_stack() -> None:
    import json
    import sys

    from release_kit import gha
    from release_kit.probes.verdicts import show

    gha.mask("deep-secret-value")
    depth = sys.getrecursionlimit() - 100
    nested = json.loads("[" * depth + '"deep-secret-value"' + "]" * depth)
    shown = show(nested)
    assert "deep-secret-value" not in shown
    assert shown.startswith("[[[")
