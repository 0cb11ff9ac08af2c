"""Remote strings (asset and workflow names, reasons quoting them) cannot steer the runner or the summary.

Each command runs the way the action runs it (GITHUB_ACTIONS=true, against the fake GitHub over
HTTP); its stdout and stderr are then read the way the runner reads them (tests/fakes/runner.py),
and its step summary is rendered as Markdown with raw HTML allowed, as GitHub renders it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from release_kit import gha, reporting
from release_kit.cli import run_cli
from tests.fakes import runner
from tests.fakes.github import FakeGitHub, serve

TOKEN = "ghs_PlantedMarkerToken0123456789abcdef"
HOSTILE = [
    "::set-output name=passed::true",
    "   ::error::forged annotation",
    "\u3000\u00a0::warning::after unicode spaces",
    "notes ##[add-mask]release-kit",
    "x.txt\n::error::after a newline",
    "y.txt\r##[set-output name=passed;]true",
    "<img src=x onerror=alert(1)>.txt",
    "[Approve](https://evil.example/approve).txt",
    "![pixel](https://evil.example/p.png)",
    "`code` | split | cells",
    "\x1b[31mred\x1b[0m.txt",
]


def render(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


@pytest.fixture
def actions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return tmp_path


@pytest.fixture
def hostile_release(actions: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    release = fake.add_release("v1.0.0", draft=False)
    fake.add_asset(release, "app.whl", b"wheel")
    for name in HOSTILE:
        fake.add_asset(release, name, name.encode())
    fake.add_asset(release, f"echo-{TOKEN}.txt", b"a remote that repeats the token back")
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        yield fake


def only_ours(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The commands the runner processed, minus the token's mask; each must be one we meant to send."""
    return [(name, data) for name, data in found if (name, data) != ("add-mask", TOKEN)]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_asset_names_cannot_start_a_workflow_command(
    hostile_release: FakeGitHub, actions: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    args = ["--repo", "octo-org/app", "--tag", "v1.0.0", "--expect", "*.whl", "--format", fmt]
    code = run_cli(["verify-release", *args])
    assert code == 1
    out, err = capsys.readouterr()
    processed = only_ours(runner.commands(out) + runner.commands(err))
    # one ::error per asset that is not verified, and nothing else: no output set, no mask, no group
    assert {name for name, _ in processed} == {"error"}
    assert len(processed) == len(HOSTILE) + 2
    written = [(actions / name).read_text() for name in ("output", "summary")]
    assert TOKEN not in "".join([out.replace(f"::add-mask::{TOKEN}", ""), err, *written])
    assert all(data.startswith(("not expected", "no valid")) for _, data in processed)
    outputs = (actions / "output").read_text()
    assert "passed<<" in outputs and "true" not in outputs
    if fmt == "json":  # the same data, still plain JSON
        report, _ = json.JSONDecoder().raw_decode(out[out.index("\n{") + 1 :])  # between mask and annotations
        names = {a["name"] for a in report["assets"]}
        assert names == {"app.whl", "echo-***.txt", *HOSTILE}
    else:
        assert "\x1b" not in out and "::error::after a newline" in out  # shown, inert, on the row's line


def test_asset_names_render_as_text_in_the_step_summary(hostile_release: FakeGitHub, actions: Path) -> None:
    run_cli(["verify-release", "--repo", "octo-org/app", "--tag", "v1.0.0", "--expect", "*.whl"])
    html = render((actions / "summary").read_text())
    assert "<img" not in html and "<a " not in html
    rows = html.split("<tr>")[2:]
    assert len(rows) == len(HOSTILE) + 2 and all(r.count("<td>") == 3 for r in rows)  # no cell split by `|`
    assert "[Approve](https://evil.example/approve).txt" in html  # the name, as text
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in html


WORKFLOW_NAMES = [
    "[Approve](https://evil.example/approve)",
    "<img src=https://evil.example/p.png>",
    "<details open><summary>ok</summary>",
    "::set-output name=passed::true",
    "##[set-output name=passed;]true",
    "`x` | fake | cell",
]


@pytest.mark.parametrize("workflow_name", WORKFLOW_NAMES)
def test_workflow_names_cannot_steer_verify_gates(
    actions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], workflow_name: str
) -> None:
    fake = FakeGitHub()
    fake.add_ref("tags/v1.0.0", "a" * 40)
    fake.add_workflow(workflow_name, path=".github/workflows/ci.yml")
    (actions / "gates.yml").write_text("gates:\n  gates:\n    - name: CI\n      workflow: .github/workflows/ci.yml\n")
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        args = ["--repo", "octo-org/app", "--ref", "v1.0.0", "--config", str(actions / "gates.yml")]
        code = run_cli(["verify-gates", *args])
    assert code == 1
    out, err = capsys.readouterr()
    processed = only_ours(runner.commands(out) + runner.commands(err))
    assert [name for name, _ in processed] == ["error"] and workflow_name.replace("##[", "#\\x23[") in processed[0][1]
    assert "##[" not in out + err  # shown as #\x23[ even inside an annotation
    html = render((actions / "summary").read_text())
    assert "<img" not in html and "<details" not in html and 'href="https://evil' not in html
    (row,) = html.split("<tr>")[2:]
    assert row.count("<td>") == 4


def test_a_remote_that_echoes_the_token_in_an_error_is_redacted(
    hostile_release: FakeGitHub, actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_release.fail("GET", "/releases/tags/", 422, body={"message": f"bad credentials {TOKEN}\n::error::x"})
    assert run_cli(["verify-release", "--repo", "octo-org/app", "--tag", "v1.0.0", "--report", "r.json"]) == 2
    out, err = capsys.readouterr()
    assert "bad credentials ***" in out and TOKEN not in out.replace(f"::add-mask::{TOKEN}", "") + err
    assert [n for n, _ in only_ours(runner.commands(out + err))] == ["error"]


@pytest.mark.parametrize(
    "secret",
    ["pa%0Ass-word-1", "pa%25ss-word-2", "100%-sure-secret", "line-one-secret\r\nline-two-secret", "cr\ronly-secret"],
)
def test_masks_reach_the_runner_as_the_real_secret(
    actions: Path, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    gha.mask(secret)
    masked = [data for name, data in runner.commands(capsys.readouterr().out) if name == "add-mask"]
    assert masked == [line for line in secret.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def test_group_titles_stay_one_command(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with gha.group("upload x\n::set-output name=passed::true"):
        pass
    assert [n for n, _ in runner.commands(capsys.readouterr().out)] == ["group", "endgroup"]


@pytest.mark.parametrize("in_actions", [True, False])
def test_debug_tracebacks_are_redacted_and_inert(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, in_actions: bool
) -> None:
    import release_kit.verify_release.run as command
    from release_kit.github.client import GitHubClient

    if in_actions:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("RELEASE_KIT_DEBUG", "1")

    def explode(**_: object) -> int:
        GitHubClient().close()  # the token is known (masked) from here on
        raise RuntimeError(f"remote said: Bearer {TOKEN}\n::set-output name=passed::true\n##[add-mask]x")

    monkeypatch.setattr(command, "run", explode)
    assert run_cli(["verify-release", "--repo", "octo-org/app", "--tag", "v1"]) == 70
    out, err = capsys.readouterr()
    assert "Traceback" in err and "remote said: Bearer ***" in err
    assert TOKEN not in (out + err).replace(f"::add-mask::{TOKEN}", "")
    if in_actions:
        assert [n for n, _ in only_ours(runner.commands(out + "\n" + err))] == ["error"]


def test_text_tables_keep_each_row_on_one_line() -> None:
    text = reporting.table(["NAME", "WHY"], [["a\nb", "c\rd"], ["\x1b[2J", "e\u2028f"]])
    assert text.splitlines() == ["NAME     WHY", "a\\x0ab   c\\x0dd", "\\x1b[2J  e\\x2028f"]


def test_markdown_cells_escape_html_links_code_and_pipes() -> None:
    cells = ["<b>x</b>", "[a](https://e.example)", "`c`", "p|q", "back\\slash [", "a\nb"]
    html = render("| a |\n| --- |\n" + "".join(f"| {reporting.md_escape(c)} |\n" for c in cells))
    assert "<b>" not in html and "<a " not in html and "<code>" not in html
    assert html.count("<td>") == len(cells)
    code = render("| a |\n| --- |\n" + "".join(f"| {reporting.md_code(c)} |\n" for c in ["``x`` | y", "<i>z</i>"]))
    assert "<code>``x`` | y</code>" in code and "<code>&lt;i&gt;z&lt;/i&gt;</code>" in code


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://x.example/a) [b](https://evil", "https://x.example/<script>", "data:text/html,x"],
)
def test_links_go_only_to_plain_http_urls(url: str) -> None:
    html = render(reporting.md_link("link", url))
    assert "<a " not in html
    assert render(reporting.md_link("run", "https://github.com/o/r/actions/runs/1")).count("<a href=") == 1


def test_json_reports_hold_no_command_and_the_same_data(tmp_path: Path) -> None:
    class Report:
        def model_dump_json(self, *, indent: int | None = None) -> str:
            return json.dumps({"name": "##[set-output name=passed;]true", "n": "::error::x"}, indent=indent)

    reporting.write_report(Report(), tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text()
    assert runner.commands(text) == []
    assert json.loads(text) == {"name": "##[set-output name=passed;]true", "n": "::error::x"}


def test_the_runner_model_reads_what_the_runner_reads() -> None:
    """The test's model of the runner: our assertions are only as good as this."""
    assert runner.commands("  ::error::x\nfoo ##[warning]y\n::bogus::z") == [("error", "x"), ("warning", "y")]
    assert runner.commands("::stop-commands::t0k\n::error::x\n::t0k::\n::notice::y") == [("notice", "y")]


def test_the_runner_log_model_shows_what_a_stop_would_leak() -> None:
    """The log model: a mask hides its value from then on, unless processing was stopped first."""
    from tests.fakes import runner_log

    masked = "::add-mask::tok-0123456789\nsaid tok-0123456789\n::error::e tok-0123456789"
    assert runner_log.log(masked) == ["said ***", "error: e ***"]
    stopped = runner_log.log(f"x ##[stop-commands]remote\n{masked}")
    assert "::add-mask::tok-0123456789" in stopped and "said tok-0123456789" in stopped
    resumed = runner_log.log(f"::stop-commands::t0k\n::error::inert\n::t0k::\n{masked}")
    assert resumed == ["::error::inert", "said ***", "error: e ***"]


def test_a_retry_notice_quoting_a_remote_message_cannot_steer_the_runner(capsys: pytest.CaptureFixture[str]) -> None:
    import httpx

    from release_kit.http import remote_message, stderr_line

    gha.mask("ghp_notice_secret")
    hostile = httpx.Response(429, json={"message": "slow down ##[stop-commands]x ghp_notice_secret"})
    stderr_line(f"GitHub: 429 {remote_message(hostile)}; waiting 1s")
    shown = capsys.readouterr().err
    assert "##[" not in shown
    assert "ghp_notice_secret" not in shown
    assert "slow down" in shown
