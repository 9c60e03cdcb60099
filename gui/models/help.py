"""The Help the desk offers, without Qt: the pages of the docs a user looks up most (a page
of docs/ and, where it is a section of one, its heading) and how a heading becomes a link's
anchor. The About box lists them; a test checks that each page and heading exists."""
from __future__ import annotations

from typing import Optional, Tuple

HELP_PAGES: Tuple[Tuple[str, str, Optional[str]], ...] = (
    ("Set-up", "README.md", "Set-up (Windows, macOS, Linux; Python 3.10 to 3.13)"),
    ("The desk", "docs/desk.md", None),
    ("Supervising the processes", "docs/desk.md", "Supervising the processes"),
    ("The System map", "docs/desk.md", "The System map"),
    ("Recording a demo", "docs/desk.md", "Recording a demo"),
    ("A universe of symbols", "docs/universe.md", None),
    ("Each process in its own terminal", "docs/running.md", "Each process in its own terminal"),
    ("Running across machines", "docs/operations.md", "Running across machines"),
    ("Interoperating with other teams' components", "docs/interoperating.md", None),
    ("The fault drill", "docs/operations.md", "Faults, bad input, load: the drill"),
)


def anchor(heading: str) -> str:
    """A Markdown heading's anchor as GitHub makes it: lower case, punctuation dropped (but
    hyphens and underscores), spaces as hyphens ('2. Layout (a job)' -> '2-layout-a-job')."""
    kept = "".join(c for c in heading.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")
