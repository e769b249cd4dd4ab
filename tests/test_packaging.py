"""The repository stands on its own: packaging, the top-level rule pack, no outside citations."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _declared_packages() -> set[str]:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    return {line.strip() for line in config["options"]["packages"].splitlines() if line.strip()}


def test_every_package_folder_is_declared_in_setup_cfg():
    """setup.cfg lists packages by hand, so each folder with an __init__.py must be named there."""
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "jira_pm").rglob("__init__.py")
    }
    assert found | {"jira_pm.rules"} == _declared_packages()


def test_default_rule_pack_lives_at_the_top_level():
    """The default rule pack is the repository's rules/ folder, not a copy inside jira_pm/."""
    assert sorted(p.name for p in (REPO / "rules").glob("*.toml")) == [
        "budget.toml", "overdue.toml", "scope_creep.toml"]
    assert not (REPO / "jira_pm" / "rules").exists()


def _tracked_copy(target: Path) -> Path:
    """The files git tracks, copied to ``target`` (a build leaves nothing in the checkout)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        if name and (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_lists_rules_and_runs_the_demo(tmp_path):
    """A non-editable wheel install has the default pack (`rules list`) and runs `demo`."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to know which files to build from")
    source = _tracked_copy(tmp_path / "src")
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels),
         str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("jira_pm-*.whl"))

    # A fresh venv gets the wheel alone; its dependencies are borrowed from this test's
    # environment through a .pth line, so the test needs no package index. A .pth line
    # does not run the .pth files of the folder it adds, so this environment's editable
    # install of jira_pm stays out and the wheel's copy is the one imported.
    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(fresh)
    python = fresh / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True).stdout.strip())
    borrowed = [p for p in sys.path if p.endswith("site-packages")]
    (site / "borrowed-deps.pth").write_text("\n".join(borrowed) + "\n", encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JIRA_PM_CONFIG")}
    where = subprocess.run(
        [str(python), "-c", "import jira_pm; print(jira_pm.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True)
    assert where.stdout.strip().startswith(str(site))

    script = fresh / "bin" / "jira-pm"
    listed = subprocess.run([str(script), "rules", "list"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    for rule in ("SC001", "OD001", "BU002"):
        assert rule in listed.stdout
    demo = subprocess.run([str(script), "demo"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert "OD001" in demo.stdout


def test_user_facing_files_cite_nothing_outside_the_repository():
    """Docs, rule files, code and the README never point at documents a cloner does not have."""
    offenders = []
    for folder in ("jira_pm", "docs", "rules", "bench"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix not in (".py", ".md", ".toml", ".cfg") or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            if "PRODUCT.md" in text or "../shared" in text:
                offenders.append(str(path.relative_to(REPO)))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    if "PRODUCT.md" in readme or "../shared" in readme:
        offenders.append("README.md")
    assert offenders == []
