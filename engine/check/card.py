"""A report card: each point of the contract with its result and the evidence (frames sent
and received, quoted, cut to a line), then a summary; text for a terminal, Markdown to save."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

PASS, FAIL, NA = "pass", "fail", "n/a"
EVIDENCE_CHARS = 160  # a line of evidence, at most


def quote(data: bytes, limit: int = 60) -> str:
    """Bytes as the peer sent them, cut: b'AAPL,172.53*MSFT,3...' (+812 bytes)."""
    shown = repr(data[:limit])
    return shown + (f" (+{len(data) - limit} bytes)" if len(data) > limit else "")


@dataclass
class Point:
    key: str            # stable name, for tests and scripts ("price-frames")
    title: str          # what it means, as the card says it
    status: str = NA
    evidence: str = ""
    required: bool = True

    def line(self) -> str:
        text = " ".join(self.evidence.split())
        return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS - 3] + "..."


@dataclass
class Card:
    role: str
    target: str                      # the address or the command checked
    points: List[Point] = field(default_factory=list)
    could_not_run: Optional[str] = None  # why the check could not run at all (exit 2)
    output: List[str] = field(default_factory=list)  # the component's last lines (--command)

    def point(self, key: str, title: str, required: bool = True) -> Point:
        p = Point(key, title, required=required)
        self.points.append(p)
        return p

    def get(self, key: str) -> Point:
        return next(p for p in self.points if p.key == key)

    def set(self, key: str, ok: Optional[bool], evidence: str) -> None:
        """ok None: not applicable (with why in the evidence)."""
        p = self.get(key)
        p.status = NA if ok is None else (PASS if ok else FAIL)
        p.evidence = evidence

    @property
    def failed(self) -> List[Point]:
        return [p for p in self.points if p.required and p.status == FAIL]

    @property
    def exit_code(self) -> int:
        if self.could_not_run:
            return 2
        return 1 if self.failed else 0

    def summary(self) -> str:
        if self.could_not_run:
            return f"could not run: {self.could_not_run}"
        required = [p for p in self.points if p.required and p.status != NA]
        passed = sum(p.status == PASS for p in required)
        text = f"{passed} of {len(required)} required points pass"
        if self.failed:
            text += "; failing: " + "; ".join(p.title for p in self.failed)
        else:
            text += ": it honours the assignment's contract"
        return text

    def text(self) -> str:
        out = [f"{self.role} check of {self.target}", ""]
        for p in self.points:
            mark = {PASS: "PASS", FAIL: "FAIL", NA: "n/a "}[p.status]
            out.append(f"  {mark}  {p.title}{'' if p.required else ' (optional)'}")
            if p.evidence:
                out.append(f"        {p.line()}")
        out += ["", self.summary()]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"# {self.role} check", "", f"Checked: `{self.target}`", "",
               "| result | point | evidence |", "| --- | --- | --- |"]
        for p in self.points:
            mark = {PASS: "pass", FAIL: "**FAIL**", NA: "n/a"}[p.status]
            title = p.title + ("" if p.required else " (optional)")
            out.append(f"| {mark} | {_cell(title)} | {_cell(p.line())} |")
        out += ["", f"**{self.summary()}** (exit {self.exit_code})", ""]
        if self.output:
            out += ["## Its last lines of output", "", "```", *self.output[-20:], "```", ""]
        return "\n".join(out)


def _cell(text: str) -> str:
    """Text in a Markdown table cell: a '|' of its own does not end the cell."""
    return text.replace("|", "&#124;")


class Check:
    """A role's check: its points declared once (POINTS: key, title, and False for an
    optional one), put on the card in that order; run() gives each its verdict."""
    POINTS: tuple = ()

    def __init__(self, card: Card, target):
        self.card, self.target = card, target
        self.conns: list = []  # the connections it made (closed at the end)
        for key, title, *optional in self.POINTS:
            card.point(key, title, required=not optional)

    def run(self) -> None:
        raise NotImplementedError
