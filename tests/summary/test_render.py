"""The summary's Markdown reads as plain text and its gantt chart is valid Mermaid, whatever the names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from release_kit import gha
from release_kit.summary import render
from release_kit.summary.models import Half, Step, SummaryReport, Verdict
from tests.summary.gantt_grammar import GanttError, mermaid_blocks, parse

T0 = datetime(2026, 12, 8, 2, 34, 7, 123000, tzinfo=UTC)
RUN = "https://github.com/acme/shop/actions/runs/42"


def step(key: str, label: str, section: str, order: int, start: float, took: float, verdict: Verdict = Verdict.PASS,
         url: str | None = None, detail: str = "") -> Step:  # fmt: skip
    return Step(
        half=Half.DEPLOY,
        key=key,
        label=label,
        section=section,
        order=order,
        verdict=verdict,
        detail=detail,
        started_at=T0 + timedelta(seconds=start),
        finished_at=T0 + timedelta(seconds=start + took),
        url=url,
    )


def deploy(*, failed: bool = False) -> SummaryReport:
    steps = [
        step("preflight", "preflight", "Prepare", 10, 0, 4.2),
        step("migrate", "migrate", "Prepare", 20, 5, 61, url="https://console.aws.amazon.com/cloudwatch/log"),
        step("deploy-api", "api deploy", "Roll out", 30, 67, 140),
        step("health-api", "api health", "Roll out", 31, 208, 12),
        step("deploy-web", "web deploy", "Roll out", 40, 221, 95),
        step("health-web", "web health", "Roll out", 41, 317, 9),
        step(
            "smoke",
            "smoke",
            "Verify",
            50,
            327,
            18,
            Verdict.FAIL if failed else Verdict.PASS,
            detail="login: status 500" if failed else "",
        ),
        step("record", "record", "Record", 70, 346, 1.1),
    ]
    return SummaryReport(half=Half.DEPLOY, passed=not failed, run_url=RUN, steps=steps)


def test_the_table_comes_first_and_reads_as_plain_text() -> None:
    markdown = render.markdown(deploy(failed=True))
    table_at, chart_at = markdown.index("| Step | Verdict |"), markdown.index("```mermaid")
    assert table_at < chart_at
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r.split("|")[1].strip() for r in rows] == [
        "preflight", "migrate", "api deploy", "api health", "web deploy", "web health", "smoke", "record",
    ]  # fmt: skip
    smoke = rows[6]
    assert "❌ fail" in smoke and "02:39:34" in smoke and "02:39:52" in smoke and "18.0s" in smoke
    assert "login: status 500" in smoke and f"[run]({RUN})" in smoke
    assert "[evidence](https://console.aws.amazon.com/cloudwatch/log)" in rows[1]
    assert "2m20s" in rows[2]  # the api deploy took 140 s
    assert markdown.startswith("### ❌ Deploy failed: smoke")


def test_the_chart_parses_with_every_step_on_the_time_axis_and_the_failure_marked() -> None:
    (block,) = mermaid_blocks(render.markdown(deploy(failed=True)))
    chart = parse(block)
    assert chart.date_format == "YYYY-MM-DD HH:mm:ss.SSS" and chart.axis_format == "%H:%M:%S"
    assert chart.sections == ["Prepare", "Roll out", "Verify", "Record"]
    assert [t.name for t in chart.tasks][2:4] == ["api deploy", "api health"]
    assert [t.tags for t in chart.tasks if "crit" in t.tags] == [["crit", "done"]]
    assert next(t for t in chart.tasks if "crit" in t.tags).name == "smoke"
    first = chart.tasks[0]
    assert first.start == datetime(2026, 12, 8, 2, 34, 7, 123000)  # UTC on the axis, as in the table
    assert first.end - first.start == timedelta(seconds=4.2)
    assert len({t.id for t in chart.tasks}) == len(chart.tasks) == 8


def test_a_passing_deploy_has_no_crit_task() -> None:
    chart = parse(render.gantt(deploy()))
    assert all(t.tags == ["done"] for t in chart.tasks)


HOSTILE = [
    "api: deploy",
    "web;click s1 call alert(1)",
    "x # comment",
    "x %% comment",
    "x\nsection evil\nevil :crit, e1, 2020-01-01 00:00:00.000, 2020-01-02 00:00:00.000",
    "section owned",
    "title owned",
    "click s1 href javascript:alert(1)",
    "dateFormat YYYY",
    "<img src=x onerror=alert(1)>",
    "::error::injected",
    "  ",
    "a,b,c",
    "é ünïcode 🚀",
    "x" * 500,
    "{{init: {'theme': 'dark'}}}",
    "%%{init: {'theme':'dark'}}%%",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_one_plain_task(name: str) -> None:
    report = SummaryReport(
        half=Half.DEPLOY,
        passed=False,
        steps=[
            step("deploy-x", name, name, 30, 0, 3, Verdict.FAIL, detail=name),
            step("deploy-y", name, name, 31, 3, 3, Verdict.PASS),
        ],
    )
    (block,) = mermaid_blocks(render.markdown(report))
    chart = parse(block)
    assert len(chart.tasks) == 2 and [t.id for t in chart.tasks] == ["s1", "s2"]
    for task in chart.tasks:
        assert 0 < len(task.name) <= render.NAME_LIMIT
        assert not any(c in task.name for c in ":;#%<>\n")
    assert chart.tasks[0].tags == ["crit", "done"]
    assert len(chart.sections) == 1
    assert block.count("\n") == 7  # gantt, title, dateFormat, axisFormat, todayMarker, section, two tasks


def test_the_grammar_check_rejects_what_mermaid_would_misread() -> None:
    good = (
        "gantt\n    dateFormat YYYY-MM-DD HH:mm:ss.SSS\n"
        "    a :done, s1, 2026-12-08 02:34:07.123, 2026-12-08 02:34:08.000"
    )
    parse(good)
    for bad in (
        good.replace("a :", "a: b :"),  # the name ends at the first ':'; 'b :done' is then bad data
        good.replace("a :", "a # b :"),
        good + "\n    b :done, s1, 2026-12-08 02:34:07.123, 2026-12-08 02:34:08.000",  # id twice
        good.replace("08.000", "06.000"),  # ends before it starts
        good.replace("2026-12-08 02:34:07.123", "2026-12-08T02:34:07Z"),
        good.replace("a :", "section :"),
        good.replace("a :", "click :"),
        good.replace("done", "failed"),
    ):
        with pytest.raises(GanttError):
            parse(bad)


def test_a_secret_in_a_name_never_reaches_the_summary() -> None:
    """Redacted before escaping: an escaped ``|`` or ``:`` would no longer match the secret at the sink."""
    secret = "hunter2:<very>|secret"
    gha.mask(secret)
    try:
        report = SummaryReport(
            half=Half.DEPLOY,
            passed=False,
            steps=[
                step(
                    "deploy-x", f"deploy {secret}", "Roll out", 30, 0, 1, Verdict.FAIL, detail=f"token {secret} refused"
                )
            ],
        )
        markdown = render.markdown(report)
        assert "hunter2" not in markdown and "very" not in markdown
        assert "hunter2" not in gha.inert(render.text(report), limit=None, keep="\n")
    finally:
        gha.forget_secrets()


def test_steps_without_times_are_in_the_table_but_not_the_chart() -> None:
    no_times = Step(half=Half.DEPLOY, key="migrate", label="migrate", section="Prepare", order=20,
                    verdict=Verdict.FAIL, detail="failure: it stopped before writing its report")  # fmt: skip
    report = SummaryReport(half=Half.DEPLOY, passed=False, steps=[deploy().steps[0], no_times])
    markdown = render.markdown(report)
    assert "| migrate | ❌ fail | — | — | — |" in markdown
    assert [t.name for t in parse(mermaid_blocks(markdown)[0]).tasks] == ["preflight"]
    assert "migrate" in render.text(report)


def test_no_step_means_no_chart() -> None:
    markdown = render.markdown(SummaryReport(half=Half.RELEASE, passed=True, steps=[]))
    assert "```mermaid" not in markdown and "Release: no step left a report" in markdown
