"""A recogniser for the subset of Mermaid's gantt grammar that ``release-kit summary`` writes.

It follows the lexer of Mermaid's ``gantt.jison``: a statement keyword at a line's start is read
as that statement; a task is ``name :data`` where the name runs to the first ``:`` and the data to
the end of the line, and ``#``, ``;`` and ``%%`` end a statement or start a comment. On top of
what the lexer accepts, it checks what makes the chart right: the header statements come first,
each task's tags are known, its id is unique, its start and end parse with the chart's
``dateFormat`` and the end is not before the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

KEYWORDS = (
    "gantt",
    "title",
    "section",
    "dateformat",
    "axisformat",
    "tickinterval",
    "excludes",
    "includes",
    "todaymarker",
    "inclusiveenddates",
    "topaxis",
    "weekday",
    "weekend",
    "click",
    "acctitle",
    "accdescr",
    "displaymode",
)
TAGS = {"done", "active", "crit", "milestone"}
# dayjs tokens of the dateFormat we write, as strptime directives
DAYJS = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH": "%H", "mm": "%M", "ss": "%S", "SSS": "%f"}
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TEXT_END = re.compile(r"[#;]|%%")


class GanttError(ValueError):
    pass


@dataclass
class Task:
    name: str
    tags: list[str]
    id: str
    start: datetime
    end: datetime
    section: str | None


@dataclass
class Gantt:
    title: str | None = None
    date_format: str | None = None
    axis_format: str | None = None
    sections: list[str] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)


def _strptime_format(date_format: str) -> str:
    out = date_format
    for token in sorted(DAYJS, key=len, reverse=True):
        out = out.replace(token, DAYJS[token])
    if re.search(r"[A-Za-z]", re.sub(r"%[YmdHMSf]", "", out)):
        raise GanttError(f"dateFormat {date_format!r} has tokens this checker does not know")
    return out


def _parse_time(value: str, date_format: str, line: int) -> datetime:
    try:
        return datetime.strptime(value, _strptime_format(date_format))
    except ValueError:
        raise GanttError(f"line {line}: {value!r} does not match dateFormat {date_format!r}") from None


def _statement_text(text: str, line: int, what: str) -> str:
    if _TEXT_END.search(text):
        raise GanttError(f"line {line}: {what} {text!r} holds '#', ';' or '%%': the rest would be lost")
    if not text.strip():
        raise GanttError(f"line {line}: empty {what}")
    return text.strip()


def parse(text: str) -> Gantt:
    """The chart, or :class:`GanttError` naming the first line the grammar would not read as we meant."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "gantt":
        raise GanttError("line 1: a gantt chart starts with 'gantt'")
    chart = Gantt()
    ids: set[str] = set()
    section: str | None = None
    for number, raw in enumerate(lines[1:], start=2):
        if "\r" in raw or any(ord(c) < 32 and c != "\t" for c in raw):
            raise GanttError(f"line {number}: a control character")
        line = raw.strip()
        if not line:
            continue
        word = line.split(None, 1)[0]
        rest = line[len(word) :].strip()
        if word == "title":
            chart.title = _statement_text(rest, number, "title")
        elif word == "dateFormat":
            chart.date_format = _statement_text(rest, number, "dateFormat")
        elif word == "axisFormat":
            chart.axis_format = _statement_text(rest, number, "axisFormat")
        elif word == "todayMarker":
            _statement_text(rest, number, "todayMarker")
        elif word == "section":
            name = _statement_text(rest, number, "section")
            if ":" in name:
                raise GanttError(f"line {number}: section {name!r} holds ':'")
            section = name
            chart.sections.append(name)
        elif any(line.lower().startswith(k) for k in KEYWORDS):
            raise GanttError(f"line {number}: {line!r} starts with a statement keyword")
        else:
            chart.tasks.append(_task(line, number, chart, section, ids))
    if chart.date_format is None and chart.tasks:
        raise GanttError("no dateFormat")
    return chart


def _task(line: str, number: int, chart: Gantt, section: str | None, ids: set[str]) -> Task:
    if ":" not in line:
        raise GanttError(f"line {number}: {line!r} is no statement and no task (no ':')")
    name, data = line.split(":", 1)
    if _TEXT_END.search(name) or _TEXT_END.search(data):
        raise GanttError(f"line {number}: '#', ';' or '%%' cut the task short")
    if not name.strip():
        raise GanttError(f"line {number}: a task with no name")
    parts = [p.strip() for p in data.split(",")]
    tags: list[str] = []
    while parts and parts[0] in TAGS:
        tags.append(parts.pop(0))
    if len(parts) != 3:
        raise GanttError(f"line {number}: expected 'tags, id, start, end' after the name, got {data.strip()!r}")
    task_id, start, end = parts
    if not _ID.fullmatch(task_id):
        raise GanttError(f"line {number}: {task_id!r} is no task id")
    if task_id in ids:
        raise GanttError(f"line {number}: task id {task_id!r} is used twice")
    ids.add(task_id)
    assert chart.date_format is not None
    begin, finish = _parse_time(start, chart.date_format, number), _parse_time(end, chart.date_format, number)
    if finish < begin:
        raise GanttError(f"line {number}: the task ends before it starts")
    return Task(name=name.strip(), tags=tags, id=task_id, start=begin, end=finish, section=section)


def mermaid_blocks(markdown: str) -> list[str]:
    """The text of every ```mermaid block in a Markdown document."""
    return re.findall(r"^```mermaid\n(.*?)\n```$", markdown, flags=re.MULTILINE | re.DOTALL)
