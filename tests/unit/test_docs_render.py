"""The documentation renders as written: README.md and every docs/**/*.md (and the other
committed Markdown pages) parsed by a real CommonMark parser (markdown-it-py, GFM tables).

What a reader would notice: a section swallowed by a stray code fence (its heading shown
as code), a command left outside its code block, a link to a file that is not there, a
front door too long to read.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 140

PAGES = sorted(
    {
        ROOT / "README.md",
        ROOT / "CHANGELOG.md",
        ROOT / "bench" / "README.md",
        ROOT / "web" / "README.md",
        *(ROOT / "docs").rglob("*.md"),
    }
)
PAGES = [page for page in PAGES if page.exists()]

# A level-2+ ATX heading: shell and Python comments start with one "#", never "## ".
HEADING_LINE = re.compile(r"^ {0,3}#{2,6} \S")
# A command a reader is meant to copy: it belongs in a code block.
COMMAND_LINE = re.compile(r"^\s*(curl|sed|aws|sam|\.venv/bin/\S+) -")


def parse(page: Path) -> tuple[list[str], list[Token]]:
    text = page.read_text(encoding="utf-8")
    return text.splitlines(), MarkdownIt("commonmark").enable("table").parse(text)


def ids(pages: list[Path]) -> list[str]:
    return [str(page.relative_to(ROOT)) for page in pages]


def test_pages_are_found() -> None:
    assert ROOT / "README.md" in PAGES
    assert len([p for p in PAGES if p.parent.name in {"docs", "flows"}]) >= 5


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_every_fence_is_closed_where_it_was_meant_to_close(page: Path) -> None:
    lines, tokens = parse(page)
    for token in tokens:
        if token.type != "fence":
            continue
        assert token.map is not None
        start, end = token.map
        closing = lines[end - 1].strip() if end - 1 > start else ""
        assert closing.startswith(token.markup) and not closing.strip(token.markup[0]), (
            f"{page.name}:{start + 1}: the code fence {token.markup}{token.info} never closes"
        )


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_every_heading_is_outside_code_blocks(page: Path) -> None:
    _, tokens = parse(page)
    swallowed = [
        f"{page.name}:{token.map[0] + 1 + offset + 1}: {line.strip()}"
        for token in tokens
        if token.type in {"fence", "code_block"} and token.map is not None
        for offset, line in enumerate(token.content.splitlines())
        if HEADING_LINE.match(line)
    ]
    assert not swallowed, "headings rendered as code (a stray fence?):\n" + "\n".join(swallowed)
    headings = [t for t in tokens if t.type == "heading_open"]
    assert headings, f"{page.name} has no heading at all"


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_commands_sit_in_code_blocks(page: Path) -> None:
    _, tokens = parse(page)
    outside = [
        f"{page.name}:{token.map[0] + 1}: {line.strip()}"
        for token in tokens
        if token.type == "inline" and token.map is not None and token.level <= 2
        for line in token.content.splitlines()
        if COMMAND_LINE.match(line)
    ]
    assert not outside, "commands rendered as prose:\n" + "\n".join(outside)


def link_targets(tokens: list[Token]) -> list[str]:
    targets: list[str] = []
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                targets.append(str(child.attrGet("href")))
            elif child.type == "image":
                targets.append(str(child.attrGet("src")))
    return targets


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_every_relative_link_target_exists(page: Path) -> None:
    _, tokens = parse(page)
    missing = []
    for target in link_targets(tokens):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path:
            continue  # a web address, or an anchor in this page
        if not (page.parent / unquote(parts.path)).exists():
            missing.append(target)
    assert not missing, f"{page.relative_to(ROOT)} links to nothing: {missing}"


def test_readme_is_a_front_door() -> None:
    lines, tokens = parse(ROOT / "README.md")
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    for wanted in ("Two commands", "Architecture", "Where to read on"):
        assert any(wanted in h for h in headings), f"README.md lacks the {wanted!r} section"
    # The architecture picture is a diagram a renderer draws, and the screenshots show.
    assert any(t.type == "fence" and t.info.strip() == "mermaid" for t in tokens)
    for image in ("sign-in.png", "ticket-thread.png", "order-status.png"):
        assert any(target.endswith(image) for target in link_targets(tokens)), image
