"""The README and the pages beside it, as a new reader meets them: the README is one screen,
every relative link (a page, a picture, a file of the checkout) leads somewhere, every
`#anchor` is a heading of its page (as GitHub makes anchors), every page of docs/ is reachable
from the README, and every command a doc shows to run a module names a module that exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gui.models.help import anchor
from tests.support import ROOT

README_MAX_LINES = 250
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
RUN_MODULE = re.compile(r"python -m ((?:engine|gui|tools)(?:\.\w+)+)")
PATH_IN_TEXT = re.compile(r"`((?:engine|gui|tools|tests|docs|data)/[\w./-]*)`")


def pages():
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def headings(page: Path) -> set:
    out, fenced = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            out.add(anchor(line.lstrip("#").strip()))
    return out


def links(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for m in LINK.finditer(text):
        yield m.group(1) or m.group(2)


def test_the_readme_is_one_screen():
    n = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert n <= README_MAX_LINES, f"README.md is {n} lines: move the rest into docs/"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not ours to check here
            continue
        path, _, frag = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif frag and dest.suffix == ".md" and frag not in headings(dest):
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
    assert not broken, broken


def test_every_page_is_reachable_from_the_readme():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in links(ROOT / "README.md")}
    assert set(p.resolve() for p in (ROOT / "docs").glob("*.md")) <= linked


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_every_module_a_doc_runs_exists(page):
    missing = [m for m in RUN_MODULE.findall(page.read_text(encoding="utf-8"))
               if not (ROOT / m.replace(".", "/")).with_suffix(".py").exists()
               and not (ROOT / m.replace(".", "/") / "__main__.py").exists()]
    assert not missing, missing


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_every_path_a_doc_names_exists(page):
    """A file or folder of the checkout named in a doc is there (a doc that names a moved
    module goes stale without anyone noticing)."""
    missing = [p for p in PATH_IN_TEXT.findall(page.read_text(encoding="utf-8"))
               if "<" not in p and not (ROOT / p).exists()]
    assert not missing, missing


def test_the_checks_find_a_broken_link_and_anchor(tmp_path):
    """The checks above can fail."""
    (tmp_path / "a.md").write_text("# Title\n\n## Two words\n\n[ok](#two-words) "
                                   "[bad](#three) [gone](b.md) ![pic](x.png)\n"
                                   "```\n[in a fence](nowhere.md)\n```\n", encoding="utf-8")
    assert headings(tmp_path / "a.md") == {"title", "two-words"}
    assert list(links(tmp_path / "a.md")) == ["#two-words", "#three", "b.md", "x.png"]
    assert anchor("2. Layout (a package a job, a module a concept)") == \
        "2-layout-a-package-a-job-a-module-a-concept"
