"""The check registry: built-in checks, and third-party ones from entry points.

A check registers itself with :func:`check`; plugins expose a ``CheckSpec``
(or a function decorated with :func:`check`) under the entry point group
``jira_pm.checks``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from jira_pm.checks.codes import CODE_BY_CHECK
from jira_pm.checks.history import ChangeNeeds
from jira_pm.errors import RulePackError

ENTRY_POINT_GROUP = "jira_pm.checks"

BUILTIN_MODULES = (
    "jira_pm.checks.scope_creep_sprint",
    "jira_pm.checks.scope_creep_version",
    "jira_pm.checks.scope_creep_epic",
    "jira_pm.checks.version_overdue",
    "jira_pm.checks.due_date_overdue",
    "jira_pm.checks.version_at_risk",
    "jira_pm.checks.budget_warning",
    "jira_pm.checks.budget_breach",
    "jira_pm.checks.budget_risk",
    "jira_pm.checks.over_estimate",
)

DOC_SECTIONS = ("What it flags", "Why it matters", "How it is computed", "Configuration", "Example")

# TOML value types a parameter may take; float accepts an integer too.
PARAM_TYPES = {
    "float": (int, float),
    "int": (int,),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
}


@dataclass(frozen=True)
class Param:
    """One threshold or option of a check, as a rule's ``[params]`` table sets it."""

    name: str
    type: str  # a key of PARAM_TYPES
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Hit:
    """What a check reports; the engine adds the rule's id, severity, label and fingerprint."""

    subject_type: str
    subject_id: str
    subject_name: str
    project_key: str | None
    message: str
    evidence: dict[str, Any]
    issue_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CheckSpec:
    """A check: its name, defaults for rules that use it, parameters and code."""

    name: str
    run: Callable[..., Iterable[Hit]]  # run(ctx: CheckContext) -> Iterable[Hit]
    label: str  # default label without the prefix, e.g. "scope-creep"
    severity: str
    params: tuple[Param, ...] = ()
    code: str | None = None
    title: str = ""
    source: str = "builtin"
    extra: dict[str, Any] = field(default_factory=dict)
    # The changelog items the check reads; None (unknown) means all of them.
    changes: ChangeNeeds | None = None

    @property
    def doc(self) -> str:
        """The check's documentation: its function's docstring."""
        return inspect.getdoc(self.run) or ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


_REGISTRY: dict[str, CheckSpec] = {}
_loaded = False


def check(
    name: str,
    *,
    label: str,
    severity: str,
    params: Iterable[Param] = (),
    title: str = "",
    changes: ChangeNeeds | None = None,
) -> Callable[[Callable[..., Iterable[Hit]]], Callable[..., Iterable[Hit]]]:
    """Decorator: make ``run(ctx)`` the check ``name`` (its docstring is its documentation)."""

    def decorate(run: Callable[..., Iterable[Hit]]):
        spec = CheckSpec(
            name=name,
            run=run,
            label=label,
            severity=severity,
            params=tuple(params),
            code=CODE_BY_CHECK.get(name),
            title=title,
            source=run.__module__,
            changes=changes,
        )
        run.check_spec = spec  # type: ignore[attr-defined]
        if run.__module__.startswith("jira_pm.checks."):
            _REGISTRY[name] = spec
        return run

    return decorate


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = entry.load()
        except Exception as exc:  # a broken plugin must name itself, not crash the run
            raise RulePackError(
                f"the check plugin {entry.name!r} ({entry.value}) failed to load: {exc}",
                hint="fix or uninstall the package that provides it",
            ) from exc
        spec = getattr(target, "check_spec", target)
        if not isinstance(spec, CheckSpec):
            raise RulePackError(
                f"the check plugin {entry.name!r} ({entry.value}) is not a check",
                hint="point the jira_pm.checks entry point at a function decorated "
                "with jira_pm.checks.check or at a CheckSpec",
            )
        if spec.name in _REGISTRY and _REGISTRY[spec.name].source != spec.source:
            raise RulePackError(
                f"the check plugin {entry.name!r} ({entry.value}) reuses the check name "
                f"{spec.name!r}",
                hint="give the plugin's check a name of its own",
            )
        _REGISTRY[spec.name] = spec
    _loaded = True


def reload_checks() -> None:
    """Forget loaded plugins and load every check again (tests install fake plugins)."""
    global _loaded
    for name in [n for n, spec in _REGISTRY.items() if not spec.source.startswith("jira_pm.")]:
        del _REGISTRY[name]
    _loaded = False
    _load()


def all_checks() -> dict[str, CheckSpec]:
    """Every known check by name: built-in ones and those of installed plugins."""
    _load()
    return dict(_REGISTRY)


def get_check(name: str) -> CheckSpec | None:
    """The check called ``name``, or None."""
    _load()
    return _REGISTRY.get(name)
