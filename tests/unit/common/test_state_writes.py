"""Every write of a state column happens in its state module (``sysinv_common/states``).

An AST check over the service packages: a module elsewhere that assigns a host's or an
app's state attribute, builds a Host or App with one, or sets one in an ``update(Host)`` /
``update(App)`` statement is listed with file:line. The state modules hold the rules
(initial state, compare-and-set transitions, leases); a write around them skips those.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sysinv_common.db.models import Base

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("sysinv_api", "sysinv_common", "sysinv_conductor", "sysinv_agent", "sysinv_admin")
STATE_MODULES = "sysinv_common/states/"

HOST_STATE = frozenset({"administrative", "operational", "availability"})
APP_STATE = frozenset(
    {"status", "lease_holder", "lease_expires_at", "abort_requested", "operation"}
)
STATE = {"Host": HOST_STATE, "App": APP_STATE}
#: Every mapped class: a local bound only to expressions naming models other than App
#: (``row = AppRelease(...)``, ``select(AppRelease)``) is not an App.
MODELS = frozenset(m.class_.__name__ for m in Base.registry.mappers)

#: Receivers of ``.status``, ``.operation``... assignments that are never an App, and why.
#: Host's attribute names are checked on every receiver, with no exception.
HARMLESS_RECEIVERS = frozenset(
    {
        # The App model has no methods, so ``self.status = ...`` is always another
        # class's own attribute (a thread's, a result's), never an app row's.
        "self",
    }
)

Bindings = dict[str, list[ast.expr]]


@dataclass(frozen=True)
class Offence:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for t in target.elts for n in _names(t)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def _bindings(scope: ast.AST) -> Bindings:
    """What each name of ``scope`` is bound to: the expressions (values, iterables,
    annotations) it may hold. Nested functions are included: an over-approximation,
    which only makes a receiver's type less often known, never wrongly known."""
    found: Bindings = defaultdict(list)
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
        a = scope.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if arg is not None and arg.annotation is not None:
                found[arg.arg].append(arg.annotation)
    for node in ast.walk(scope):
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign):
            pairs = [(node.target, node.annotation)]
            if node.value is not None:
                pairs.append((node.target, node.value))
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            pairs = [(node.target, node.iter)]
        elif isinstance(node, ast.With | ast.AsyncWith):
            pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars]
        elif isinstance(node, ast.NamedExpr):
            pairs = [(node.target, node.value)]
        for target, value in pairs:
            for name in _names(target):
                found[name].append(value)
    return found


def _model_of(expr: ast.expr) -> str | None:
    name = expr.id if isinstance(expr, ast.Name) else getattr(expr, "attr", None)
    return name if name in STATE else None


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.scopes: list[Bindings] = []
        self.aliases: dict[str, str] = {}
        self.found: list[Offence] = []

    def _offence(self, node: ast.AST, what: str) -> None:
        self.found.append(Offence(self.path, getattr(node, "lineno", 0), what))

    def _bound(self, name: str) -> list[ast.expr]:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return []

    # Scopes: where a receiver's bindings are looked up.

    def _scoped(self, node: ast.AST) -> None:
        self.scopes.append(_bindings(node))
        self.generic_visit(node)
        self.scopes.pop()

    def visit_Module(self, node: ast.Module) -> None:
        # ``from sqlalchemy import update as sa_update``: the statement by any name.
        for imp in ast.walk(node):
            if isinstance(imp, ast.ImportFrom) and (imp.module or "").startswith("sqlalchemy"):
                for alias in imp.names:
                    self.aliases[alias.asname or alias.name] = alias.name
        self._scoped(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scoped(node)

    # Attribute writes.

    def _not_an_app(self, receiver: ast.expr) -> bool:
        if not isinstance(receiver, ast.Name):
            return False
        if receiver.id in HARMLESS_RECEIVERS:
            return True
        named = {
            n.id
            for bound in self._bound(receiver.id)
            for n in ast.walk(bound)
            if isinstance(n, ast.Name) and n.id in MODELS
        }
        return bool(named) and "App" not in named

    def _write(self, node: ast.AST, receiver: ast.expr, attr: str) -> None:
        written = f"{ast.unparse(receiver)}.{attr}"
        if attr in HOST_STATE:
            self._offence(node, f"writes {written} (host state)")
        elif attr in APP_STATE and not self._not_an_app(receiver):
            self._offence(node, f"writes {written} (app state, unless the receiver is no App)")

    def _target(self, node: ast.AST, target: ast.expr) -> None:
        if isinstance(target, ast.Attribute):
            self._write(node, target.value, target.attr)
        elif isinstance(target, ast.Tuple | ast.List):
            for t in target.elts:
                self._target(node, t)
        elif isinstance(target, ast.Starred):
            self._target(node, target.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self._target(node, t)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node, node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._target(node, node.target)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._target(node, node.target)
        self.generic_visit(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self._target(node, node.target)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._target(node, item.optional_vars)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._target(node.iter, node.target)
        self.generic_visit(node)

    # Calls: setattr, Host(...)/App(...), update(Host|App).values(...).

    def _statement_model(self, expr: ast.expr, depth: int = 0) -> str | None:
        """Host or App when ``expr`` is (a chain on) ``update(X)`` / ``insert(X)``,
        directly or through a local name bound to one."""
        while isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Name):
                called: str | None = self.aliases.get(func.id, func.id)
            else:
                called = getattr(func, "attr", None)
            if called in ("update", "insert") and expr.args:
                model = _model_of(expr.args[0])
                if model is not None:
                    return model
            if not isinstance(func, ast.Attribute):
                return None
            expr = func.value  # .where(...), .returning(...), ... down to the statement
        if isinstance(expr, ast.Name) and depth < 3:
            for bound in self._bound(expr.id):
                model = self._statement_model(bound, depth + 1)
                if model is not None:
                    return model
        return None

    def _columns(self, node: ast.Call, model: str, what: str) -> None:
        """The column keywords (or dict-literal keys) of a call that writes ``model``."""
        state = STATE[model]
        # Keys unknown here (a variable, ``**mapping``, a computed key) may hold a state column.
        unknown = f"passes {model} columns to {what}(...) that cannot be checked"
        mappings = [kw.value for kw in node.keywords if kw.arg is None]
        if what == "values":
            mappings += node.args
        for kw in node.keywords:
            if kw.arg in state:
                self._offence(node, f"sets {model}.{kw.arg} in {what}(...)")
        for mapping in mappings:
            if not isinstance(mapping, ast.Dict):
                self._offence(node, unknown)
                continue
            for key in mapping.keys:
                if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                    self._offence(node, unknown)
                elif key.value in state:
                    self._offence(node, f"sets {model}.{key.value} in {what}(...)")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2:
            name = node.args[1]
            # A computed name cannot be checked here; the ones in use (host and system
            # field updates) come from fixed lists of plain fields.
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self._write(node, node.args[0], name.value)
        model = _model_of(func)
        if model is not None:
            self._columns(node, model, model)
        if isinstance(func, ast.Attribute) and func.attr == "values":
            model = self._statement_model(func.value)
            if model is not None:
                self._columns(node, model, "values")
        self.generic_visit(node)


def offences(source: str, path: str) -> list[Offence]:
    checker = _Checker(path)
    checker.visit(ast.parse(source, path))
    return sorted(checker.found, key=lambda o: o.line)


def sources() -> list[str]:
    return [
        str(p.relative_to(ROOT))
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
    ]


def offences_in(path: str) -> list[Offence]:
    return offences((ROOT / path).read_text(encoding="utf-8"), path)


def test_only_state_modules_write_state_columns() -> None:
    checked = [p for p in sources() if not p.startswith(STATE_MODULES)]
    found = [o for path in checked for o in offences_in(path)]
    assert not found, (
        "State columns written outside sysinv_common/states (call a state function instead):\n"
        + "\n".join(str(o) for o in found)
    )


def test_the_walk_sees_every_package() -> None:
    found = sources()
    for package in PACKAGES:
        assert any(p.startswith(f"{package}/") for p in found), package
    assert "sysinv_common/states/host.py" in found
    # The state modules do write state: the check would see it, were they not exempt.
    assert offences_in("sysinv_common/states/host.py")
    assert offences_in("sysinv_common/states/app.py")


SAMPLE = """
from sqlalchemy import update as sa_update, update, insert
from sysinv_common.db import models
from sysinv_common.db.models import App, AppRelease, Host


def writes(host, app, rows, values, session):
    host.availability = "online"  # offence
    host.hostname = "x"
    app.status, app.progress = "applied", "ok"  # offence
    app.lease_expires_at += 1  # offence
    app.operation: str = "apply"  # offence
    for app.status in ("a", "b"):  # offence
        pass
    setattr(app, "abort_requested", True)  # offence
    setattr(host, "operational", "enabled")  # offence
    setattr(host, "location", {})
    [0 for host.administrative in rows]  # offence
    Host(hostname="h", availability="offline")  # offence
    models.App(name="a", status="uploaded")  # offence
    App(name="a", **values)  # offence
    App(name="a", **{"status": "x"})  # offence
    App(name="a", **{"progress": "x"})
    Host(hostname="h", status="whatever")
    session.execute(update(App).where(App.id == 1).values(status="x"))  # offence
    session.execute(sa_update(Host).values({"operational": "enabled"}))  # offence
    session.execute(update(Host).values(values))  # offence
    session.execute(insert(App).values(lease_holder="me"))  # offence
    session.execute(update(App).values(progress="p").where(App.id == 1))
    stmt = update(App).where(App.id == 1)
    session.execute(stmt.values(abort_requested=True))  # offence
    session.execute(update(AppRelease).values(status="deployed"))


def not_apps(session, release: AppRelease):
    release.status = "deployed"
    row = session.scalars(select(AppRelease)).first()
    if row is None:
        row = AppRelease(status="x")
    row.status = "failed"


def unknown(thing):
    thing.status = "done"  # offence
    row = session.get(App, 1)
    row.status = "applied"  # offence
    mixed = AppRelease() if thing else App()
    mixed.status = "x"  # offence


class Worker:
    def run(self):
        self.status = "running"
        self.availability = "yes"  # offence
"""


def test_the_check_finds_each_kind_of_write() -> None:
    expected = [n for n, line in enumerate(SAMPLE.splitlines(), 1) if line.endswith("# offence")]
    found = offences(SAMPLE, "sample.py")
    assert [o.line for o in found] == expected, "\n".join(str(o) for o in found)
    assert str(found[0]) == "sample.py:8: writes host.availability (host state)"
