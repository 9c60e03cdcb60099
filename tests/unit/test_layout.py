"""The layout's rules, read from the source: the engine never imports Qt or the desk, and the
tools beside it (bench, drill) never replace an engine function or method at run time; they
measure through engine.trace hooks."""
import ast
import re

from tests.support import ROOT

ENGINE = ROOT / "engine"


def sources(folder):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_engine_never_imports_qt_or_the_desk():
    pattern = re.compile(r"PySide6|pyqtgraph|shiboken6|from gui|import gui")
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in sources(ENGINE)
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, found


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


def test_bench_and_drill_replace_nothing_in_the_engine():
    found = [f for folder in (ENGINE / "bench", ENGINE / "drill") for p in sources(folder)
             for f in patches(p)]
    assert not found, found


def test_the_patch_finder_finds_a_patch(tmp_path):
    """The check above can fail: the shape of the old bench's patching is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..net import Server\nfrom .. import order_manager as om\n"
                   "Server._readable = lambda self: None\n"
                   "setattr(om.OrderDesk, 'handle', None)\n"
                   "from .. import trace\ntrace.HOOKS.woke = print\n", encoding="utf-8")
    found = [f.split(": ", 1)[1] for f in patches(bad, tmp_path)]
    assert found == ["Server._readable = lambda self: None",
                     "setattr(om.OrderDesk, 'handle', None)"]
