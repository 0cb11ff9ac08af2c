from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from release_kit import config
from release_kit.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "release-kit.yml"


def test_unknown_key_reports_its_path_and_line() -> None:
    text = "gates:\n  gates:\n    - name: CI\n      workflow: ci.yml\n      severity: high\n"
    with pytest.raises(ConfigError) as info:
        config.parse(text, "release-kit.yml")
    assert info.value.one_line() == (
        "release-kit.yml:5: unknown key 'gates.gates.0.severity' (did you mean 'severity_threshold'?)"
    )


def test_bad_value_reports_its_line() -> None:
    text = "gates:\n  gates:\n    - name: CodeQL\n      schedule_max_age: soon\n"
    with pytest.raises(ConfigError, match=r"release-kit.yml:4: gates.gates.0.schedule_max_age: .*duration"):
        config.parse(text, "release-kit.yml")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"x.yml:2: not valid YAML"):
        config.parse("gates: 1\n  nested: 2\n", "x.yml")


def test_reserved_sections_accept_nothing_yet() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'deploy\.url'"):
        config.parse("deploy:\n  url: https://x\n", "x.yml")


def test_schema_validates_the_example_config() -> None:
    schema = config.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load(EXAMPLE.read_text())
    jsonschema.validate(data, schema)
    assert config.parse(EXAMPLE.read_text(), str(EXAMPLE)).gates is not None


def test_schema_rejects_what_the_loader_rejects() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gates": {"gates": [{"name": "x", "bogus": 1}]}}, config.json_schema())


def test_schema_command_prints_valid_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from release_kit.cli import run_cli

    assert run_cli(["schema"]) == 0
    jsonschema.Draft202012Validator.check_schema(json.loads(capsys.readouterr().out))


def test_unknown_key_with_a_nested_value_is_reported_on_the_key_line() -> None:
    text = "gates:\n  gates:\n    - name: CI\n      colour:\n        red: 1\n        blue: 2\n"
    with pytest.raises(ConfigError) as info:
        config.parse(text, "rk.yml")
    assert info.value.one_line() == "rk.yml:4: unknown key 'gates.gates.0.colour'"


def test_every_error_is_listed_in_plain_words() -> None:
    text = (
        "gates:\n"
        "  gates:\n"
        "    - name: CI\n"
        "      colour: red\n"
        "    - workflow: ci.yml\n"
        "      severity_threshold: severe\n"
        "      no_open_secret_alerts: maybe\n"
        "release:\n"
        "  expect: starter-*.whl\n"
    )
    with pytest.raises(ConfigError) as info:
        config.parse(text, "rk.yml")
    assert info.value.one_line() == (
        "rk.yml: 5 errors: "
        "rk.yml:4: unknown key 'gates.gates.0.colour'; "
        "rk.yml:5: gates.gates.1.name: required key missing; "
        "rk.yml:6: gates.gates.1.severity_threshold: expected one of 'low', 'medium', 'high' or 'critical', "
        "got 'severe'; "
        "rk.yml:7: gates.gates.1.no_open_secret_alerts: expected true or false, got 'maybe'; "
        "rk.yml:9: release.expect: expected a list, got 'starter-*.whl'"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gates: [1]\n", "x.yml:1: gates: expected a mapping of keys"),
        ("gates:\n  gates: []\n", "x.yml:2: gates: at least one gate is required"),
        ("gates:\n  gates:\n    - name: CodeQL\n      schedule_max_age: soon\n", "expected a duration such as 90s"),
    ],
)
def test_messages_name_no_pydantic_class(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.parse(text, "x.yml")
    message = info.value.one_line()
    assert expected in message
    for word in ("GatesPolicy", "Gate", "Config", "Value error", "Input should", "pydantic"):
        assert word not in message
