"""The layout's rules, read from the source (nothing is run):

* the import graph of the product (engine, gui, tools, launcher.py) has no cycle, counting
  every import (at the top, in a function, relative or absolute) and every module a process
  is started with (`[sys.executable, "-m", "gui.x"]` is an arrow too);
* arrows point one way: tools -> gui -> engine, counting also every module named anywhere in
  a string (engine never so much as names gui or tools); inside the engine they point down
  the list of its packages in engine/__init__.py; engine never imports Qt;
* the desk's models never import Qt; each top level holds only packages and its entries;
* no product module is over ~400 lines without its reason at its top;
* the tools measure the engine through its trace hooks, never by replacing its functions.
"""
from __future__ import annotations

import ast
import re

import pytest

from tests.support import ROOT

PRODUCT = ("engine", "gui", "tools")
LONG = 400  # lines; a longer module says why in its docstring ("Long: ...")
MODULE_IN_TEXT = re.compile(r"\b(?:engine|gui|tools)(?:\.[a-z_][a-z0-9_]*)+")


def sources(folder):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict:
    """Every product module by dotted name (launcher.py as `launcher`)."""
    found = {module_name(p): p for top in PRODUCT for p in sources(ROOT / top)}
    found["launcher"] = ROOT / "launcher.py"
    return found


def arrows(path, known, me=None) -> set:
    """(module, how) for every product module this file imports ("import"), starts a process
    with ("run": a string after "-m" in a list, a tuple or a call) or names in any other
    string ("named in a string")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if me is None:
        me = module_name(path) if path.name != "launcher.py" else "launcher"
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = set()

    def add(name: str, how: str) -> None:
        while name and name not in known:  # engine.x.Name -> engine.x
            name = name.rpartition(".")[0]
        if name and name != me:
            out.add((name, how))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(a.name, "import")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                full = f"{target}.{a.name}"
                add(full if full in known else target, "import")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for m in MODULE_IN_TEXT.finditer(node.value):
                add(m.group(0), "named in a string")
        if isinstance(node, (ast.List, ast.Tuple, ast.Call)):
            items = node.elts if not isinstance(node, ast.Call) else node.args
            for before, item in zip(items, items[1:]):
                if (isinstance(before, ast.Constant) and before.value == "-m"
                        and isinstance(item, ast.Constant) and isinstance(item.value, str)):
                    add(item.value, "run")
    return out


def dependencies(g: dict) -> dict:
    """What each module needs: what it imports and what it starts (prose does not count)."""
    return {m: {t for t, how in e if how != "named in a string"} for m, e in g.items()}


def graph() -> dict:
    known = modules()
    return {name: arrows(path, known) for name, path in known.items()}


def cycles(edges: dict) -> list:
    """The strongly connected components of more than one module (Tarjan), and self-loops."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> int:
    return {"engine": 0, "gui": 1, "tools": 2, "launcher": 3}[module.split(".")[0]]


def engine_packages() -> list:
    """The engine's packages in the order engine/__init__.py lists them (lowest first)."""
    doc = ast.get_docstring(ast.parse((ROOT / "engine" / "__init__.py").read_text(
        encoding="utf-8")))
    return re.findall(r"^    ([a-z_]+)/", doc, re.M)


# -- the rules -----------------------------------------------------------------------------------
def test_the_import_graph_has_no_cycle_imports_and_module_strings_counted():
    assert cycles(dependencies(graph())) == []


def test_arrows_point_down_tools_gui_engine():
    up = [f"{m} -> {t} ({how})" for m, e in graph().items() for t, how in e
          if layer(t) > layer(m)]
    assert not up, up


def test_inside_the_engine_a_package_uses_only_those_listed_before_it():
    order = engine_packages()
    assert set(order) == {p.name for p in (ROOT / "engine").iterdir()
                          if (p / "__init__.py").exists()}, "engine/__init__.py lists them all"
    rank = {p: i for i, p in enumerate(order)}

    def package(m):
        parts = m.split(".")
        return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in rank) else None

    wrong = [f"{m} -> {t}" for m, e in dependencies(graph()).items() if m.startswith("engine.")
             for t in e if t.startswith("engine.") and package(m) and package(t)
             and rank[package(t)] > rank[package(m)]]
    assert not wrong, wrong


def test_the_checks_see_a_process_started_by_module_name_and_a_cycle(tmp_path):
    """The rules above can fail: the engine starting `-m gui.x` as a subprocess (the old
    bench's hidden cycle) is an arrow up and a dependency, a mention is an arrow up only,
    and two modules that need each other are a cycle."""
    bad = tmp_path / "bad.py"
    bad.write_text('"""See gui.app."""\nimport subprocess, sys\n'
                   'subprocess.run([sys.executable, "-m", "gui.launch"])\n', encoding="utf-8")
    known = {"gui.launch": None, "gui.app": None, "gui": None}
    found = arrows(bad, known, me="engine.bad")
    assert found == {("gui.launch", "run"), ("gui.launch", "named in a string"),
                     ("gui.app", "named in a string")}
    assert dependencies({"engine.bad": found}) == {"engine.bad": {"gui.launch"}}
    assert all(layer(t) > layer("engine.bad") for t, _ in found)
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_the_engine_never_imports_qt_and_the_desk_models_neither():
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|pyqtgraph|shiboken6)\b", re.M)
    folders = [ROOT / "engine", ROOT / "gui" / "models"]
    found = [str(p.relative_to(ROOT)) for f in folders for p in sources(f)
             if pattern.search(p.read_text(encoding="utf-8"))]
    assert not found, found


def test_top_levels_hold_packages_and_their_entries():
    entries = {"engine": {"__init__.py", "gateway.py", "orderbook.py", "strategy.py",
                          "order_manager.py", "headless.py"},
               "gui": {"__init__.py", "launch.py", "app.py", "demo.py"},
               "tools": {"__init__.py", "screenshot.py"}}
    for top, allowed in entries.items():
        files = {p.name for p in (ROOT / top).glob("*.py")}
        assert files <= allowed, (top, sorted(files - allowed))


@pytest.mark.parametrize("top", PRODUCT)
def test_a_long_module_says_why_at_its_top(top):
    long_ = []
    for p in sources(ROOT / top):
        n = len(p.read_text(encoding="utf-8").splitlines())
        doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or ""
        if n > LONG and "Long:" not in doc:
            long_.append(f"{p.relative_to(ROOT)} ({n} lines)")
    assert not long_, long_


# -- the tools measure, never patch --------------------------------------------------------------
def engine_names(tree):
    """Names this module bound to engine modules or their members (import ..x, from ..x
    import y, import engine.x as z)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or
                                                 (node.module or "").startswith("engine")):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names
                         if a.name.startswith("engine"))
    return names


def patches(path, root=ROOT):
    """`X.attr = ...` or setattr(X, ...) where X (or the start of a dotted X) is a name bound
    to the engine, except the trace hooks, which exist to be set."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound = engine_names(tree) - {"trace"}
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            targets = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "setattr" and node.args):
            targets = [ast.Attribute(value=node.args[0], attr="?")]
        for t in targets:
            if not isinstance(t, ast.Attribute):
                continue
            base = t.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_the_tools_replace_nothing_in_the_engine():
    found = [f for p in sources(ROOT / "tools") for f in patches(p)]
    assert not found, found


def test_the_patch_finder_finds_a_patch(tmp_path):
    """The check above can fail: the shape of the old bench's patching is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from engine.net.server import Server\n"
                   "from engine.processes import order_manager as om\n"
                   "Server._readable = lambda self: None\n"
                   "setattr(om.OrderDesk, 'handle', None)\n"
                   "from engine.measure import trace\ntrace.HOOKS.woke = print\n",
                   encoding="utf-8")
    found = [f.split(": ", 1)[1] for f in patches(bad, tmp_path)]
    assert found == ["Server._readable = lambda self: None",
                     "setattr(om.OrderDesk, 'handle', None)"]
