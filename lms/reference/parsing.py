"""Splitting a reference page into anchored sections, and matching quotes."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*\{#([A-Za-z0-9][A-Za-z0-9_-]*)\}\s*$")
BARE_HEADING = re.compile(r"^(#{1,6})\s+\S")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class ParsedSection:
    anchor: str
    title: str
    level: int
    line: int
    text: str = ""
    #: the section's own text, without its subsections (what search indexes)
    own_text: str = ""

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(normalise(self.text).encode("utf-8")).hexdigest()


def split_sections(body: str, first_line: int = 1) -> tuple[list[ParsedSection], list[tuple[int, str]]]:
    """Sections of a Markdown body and problems (line, message) such as headings without anchors."""
    lines = body.splitlines()
    sections: list[ParsedSection] = []
    starts: list[int] = []
    problems: list[tuple[int, str]] = []
    in_fence = False
    for index, line in enumerate(lines):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        match = HEADING.match(line)
        if match:
            level, title, anchor = len(match.group(1)), match.group(2), match.group(3)
            if any(s.anchor == anchor for s in sections):
                problems.append((first_line + index, f"duplicate anchor #{anchor} in this page"))
            sections.append(ParsedSection(anchor=anchor, title=title.strip(), level=level, line=first_line + index))
            starts.append(index)
        elif BARE_HEADING.match(line):
            problems.append((first_line + index, "heading without an anchor: end it with {#anchor}"))
    for n, section in enumerate(sections):
        end = len(lines)
        for later in range(n + 1, len(sections)):
            if sections[later].level <= section.level:
                end = starts[later]
                break
        section.text = "\n".join(lines[starts[n]:end]).strip()
        own_end = starts[n + 1] if n + 1 < len(sections) else len(lines)
        section.own_text = "\n".join(lines[starts[n] + 1:own_end]).strip()
    return sections, problems


_EMPHASIS = re.compile(r"[*_`]")
_SPACE = re.compile(r"\s+")
_ANCHOR_ATTR = re.compile(r"\{#[A-Za-z0-9_-]+\}")


def normalise(text: str) -> str:
    """Text as citations compare it: no emphasis marks or anchors, case-folded, single spaces."""
    text = _ANCHOR_ATTR.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text).strip().casefold()


def quote_occurs(quote: str, section_text: str) -> bool:
    needle = normalise(quote)
    return bool(needle) and needle in normalise(section_text)


NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def numbers_in(text: str) -> list[str]:
    """The numbers written in a text, as they are written (for key-vs-quote checks)."""
    return NUMBER.findall(text or "")
