"""MkDocs hook: links from a docs page to a file of the repository outside docs/ go to the repository.

The pages link `../examples/smoke.yml` so they read right on GitHub; the built site has no such file,
so those links (and only those) become `<repo_url>/blob/main/<path>`. Links inside docs/ are left to
MkDocs, which checks them (`mkdocs build --strict`).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

INLINE = re.compile(r"(\]\()([^)\s]+)(\))")  # [text](target)
DEFINITION = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*)(\S+)", re.MULTILINE)  # [label]: target
FENCE = re.compile(r"^\s*(```|~~~)")


def repository_url(target: str, page_path: str, repo_url: str, branch: str = "main") -> str | None:
    """The repository URL of `target` when it leaves docs/, else None (left as it is)."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith(("#", "/")):
        return None
    path, _, anchor = target.partition("#")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), path))
    if not resolved.startswith("../"):
        return None
    inside_repo = resolved.removeprefix("../")
    if inside_repo.startswith("../"):
        return None  # above the repository: leave it for MkDocs to report
    kind = "tree" if path.endswith("/") else "blob"  # a folder, as GitHub shows it
    url = f"{repo_url.rstrip('/')}/{kind}/{branch}/{inside_repo}"
    return f"{url}#{anchor}" if anchor else url


def rewrite(markdown: str, page_path: str, repo_url: str) -> str:
    """Rewrite the links of one page, leaving fenced code alone."""
    out: list[str] = []
    chunk: list[str] = []
    fenced = False

    def flush() -> None:
        if not chunk:
            return
        text = "\n".join(chunk)
        text = INLINE.sub(lambda m: m[1] + (repository_url(m[2], page_path, repo_url) or m[2]) + m[3], text)
        text = DEFINITION.sub(lambda m: m[1] + (repository_url(m[2], page_path, repo_url) or m[2]), text)
        out.append(text)
        chunk.clear()

    for line in markdown.split("\n"):
        if FENCE.match(line):
            if not fenced:
                chunk.append(line)
                flush()
                fenced = True
                continue
            fenced = False
            out.append(line)
            continue
        if fenced:
            out.append(line)
        else:
            chunk.append(line)
    flush()
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return rewrite(markdown, page.file.src_uri, config["repo_url"])
