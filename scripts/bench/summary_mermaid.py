#!/usr/bin/env python3
"""Check the summary's gantt charts with Mermaid's own parser, next to our grammar check.

Mermaid's CLI (``@mermaid-js/mermaid-cli``) renders through a headless Chrome, which this machine
does not have; Mermaid's parser runs in Node with ``jsdom`` standing in for the browser. This
script renders summaries (a failed runbook deploy, the release half, every hostile step name of
the tests, and a chart of --steps steps), parses each chart with Mermaid and asks its gantt
database for the tasks (name, id, start, end, crit), and checks they are exactly the steps the
summary meant. As controls, the hostile names are also written into charts unescaped: Mermaid must
reject or misread those where our grammar check says so. Printed: charts checked, agreements, and
the time to render a summary (ours) next to the time Mermaid takes to parse it (the peer).

    npm i --prefix /tmp/mm mermaid@11 jsdom@25      # once; no browser needed
    uv run --frozen --extra dev python scripts/bench/summary_mermaid.py --node-modules /tmp/mm/node_modules
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.summary.gantt_grammar import GanttError, mermaid_blocks, parse  # noqa: E402
from tests.summary.test_render import HOSTILE  # noqa: E402

from release_kit.summary import render  # noqa: E402
from release_kit.summary.models import Half, Step, SummaryReport, Verdict  # noqa: E402

T0 = datetime(2026, 12, 8, 2, 34, 7, 123000, tzinfo=UTC)
RUNBOOK = [
    ("preflight", "preflight", "Prepare", 10, 4.2),
    ("migrate", "migrate", "Prepare", 20, 61.0),
    ("deploy-api", "api deploy", "Roll out", 30, 140.0),
    ("health-api", "api health", "Roll out", 31, 12.0),
    ("deploy-web", "web deploy", "Roll out", 40, 95.0),
    ("health-web", "web health", "Roll out", 41, 9.0),
    ("smoke", "smoke", "Verify", 50, 18.0),
    ("record", "record", "Record", 70, 1.1),
]
RELEASE = [
    ("gates", "gates", "Gates", 10, 3.0),
    ("images", "images", "Build and push", 20, 50.0),
    ("release-build", "release build", "Build and push", 30, 30.0),
    ("release-upload", "release upload", "Release", 40, 10.0),
    ("release-publish", "release publish", "Release", 50, 5.0),
    ("verification", "verification", "Verify", 60, 8.0),
]

NODE_CHECK = r"""
import { JSDOM } from "jsdom";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
const began = performance.now();
for (const text of JSON.parse(input)) {
  try {
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const tasks = diagram.db.getTasks().map(t => ({
      name: t.task.trim(), id: t.id, start: t.startTime.toISOString(), end: t.endTime.toISOString(),
      crit: Boolean(t.crit), section: t.section.trim(),
    }));
    out.push({ ok: true, tasks });
  } catch (e) {
    out.push({ ok: false, error: String(e.message || e).slice(0, 200) });
  }
}
console.log(JSON.stringify({ ms: performance.now() - began, results: out }));
"""


def report(rows: list[tuple[str, str, str, int, float]], half: Half, failed: set[str]) -> SummaryReport:
    steps, at = [], 0.0
    for key, label, section, order, took in rows:
        steps.append(
            Step(half=half, key=key, label=label, section=section, order=order,
                 verdict=Verdict.FAIL if key in failed else Verdict.PASS,
                 started_at=T0 + timedelta(seconds=at), finished_at=T0 + timedelta(seconds=at + took))
        )  # fmt: skip
        at += took + 0.5
    return SummaryReport(half=half, passed=not failed, steps=steps)


def cases(many: int) -> list[SummaryReport]:
    out = [report(RUNBOOK, Half.DEPLOY, {"smoke"}), report(RELEASE, Half.RELEASE, {"verification"})]
    hostile = [(f"deploy-{i}", name, name, 30 + i, 2.0) for i, name in enumerate(HOSTILE)]
    out.append(report(hostile, Half.DEPLOY, {hostile[0][0]}))
    big = [(f"step-{i}", f"step {i}", f"stage {i // 10}", i, 1.0 + i % 7) for i in range(many)]
    out.append(report(big, Half.DEPLOY, {f"step-{i}" for i in range(0, many, 5)}))
    return out


def expected(summary: SummaryReport) -> list[dict[str, object]]:
    def iso(at: datetime | None) -> str:
        assert at is not None
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"

    return [
        {"name": render.gantt_text(s.label), "id": f"s{i}", "start": iso(s.started_at), "end": iso(s.finished_at),
         "crit": s.verdict is Verdict.FAIL, "section": render.gantt_text(s.section)}
        for i, s in enumerate(render.ordered(summary.steps), start=1)
    ]  # fmt: skip


def controls() -> list[str]:
    """Charts with each hostile name written in raw: what escaping protects against."""
    head = "gantt\n    dateFormat YYYY-MM-DD HH:mm:ss.SSS\n    section S\n"
    task = " :done, s1, 2026-12-08 02:34:07.123, 2026-12-08 02:34:08.000"
    return [head + f"    {name}{task}" for name in HOSTILE]


def mermaid(node_modules: Path, charts: list[str]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "check.mjs"
        script.write_text(NODE_CHECK)
        (Path(folder) / "node_modules").symlink_to(node_modules)
        done = subprocess.run(
            ["node", str(script)],
            input=json.dumps(charts),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env={**os.environ, "TZ": "UTC"},
        )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--node-modules", type=Path, default=Path(os.environ.get("MERMAID_NODE_MODULES", "/tmp/mm/node_modules"))
    )
    parser.add_argument("--steps", type=int, default=40, help="steps in the largest chart")
    parser.add_argument("--repeat", type=int, default=20, help="renders timed per summary")
    args = parser.parse_args()
    summaries = cases(args.steps)
    began = time.perf_counter()
    for _ in range(args.repeat):
        markdowns = [render.markdown(s) for s in summaries]
    ours_ms = (time.perf_counter() - began) * 1000 / args.repeat
    charts = [mermaid_blocks(m)[0] for m in markdowns]
    for chart in charts:
        parse(chart)  # our grammar check: raises on anything it would not accept
    print(f"summaries rendered:            {len(summaries)} ({sum(len(s.steps) for s in summaries)} steps)")
    print(f"our grammar check:             {len(charts)}/{len(charts)} charts valid")
    if shutil.which("node") is None or not (args.node_modules / "mermaid").is_dir():
        print(f"mermaid: not checked (needs node and mermaid + jsdom in {args.node_modules})")
        return 0
    peer = mermaid(args.node_modules, charts)
    results = peer["results"]
    assert isinstance(results, list)
    agree = 0
    for summary, result in zip(summaries, results, strict=True):
        if result.get("ok") and result["tasks"] == expected(summary):
            agree += 1
        else:
            print(f"MISMATCH: {json.dumps(result)[:400]}")
    raw = mermaid(args.node_modules, controls())["results"]
    assert isinstance(raw, list)
    theirs_bad = ours_bad = covered = 0
    for name, chart, result in zip(HOSTILE, controls(), raw, strict=True):
        try:
            ours = parse(chart)
            ours_ok = len(ours.tasks) == 1 and ours.tasks[0].name == name.strip()
        except GanttError:
            ours_ok = False
        tasks = result.get("tasks", [])
        theirs_ok = bool(result.get("ok")) and len(tasks) == 1 and tasks[0]["name"] == name.strip()
        theirs_bad += not theirs_ok
        ours_bad += not ours_ok
        covered += theirs_ok or not ours_ok  # whatever Mermaid misreads, our check flags too
    print(f"mermaid {json.loads((args.node_modules / 'mermaid' / 'package.json').read_text())['version']} parser:  "
          f"{agree}/{len(charts)} charts read exactly as meant (names, ids, UTC times, crit)")  # fmt: skip
    print(
        f"raw hostile names (controls):  mermaid rejects or misreads {theirs_bad}/{len(raw)}, "
        f"our grammar check flags {ours_bad}/{len(raw)}; every misread flagged: {covered}/{len(raw)}"
    )
    peer_ms = float(peer["ms"])  # type: ignore[arg-type]
    print(f"render, ours (all summaries):  {ours_ms:.2f} ms")
    print(f"mermaid parse (same charts):   {peer_ms:.2f} ms")
    print(f"ratio ours / peer:             {ours_ms / peer_ms:.3f}")
    return 0 if agree == len(charts) and covered == len(raw) else 1


if __name__ == "__main__":
    sys.exit(main())
