"""The architecture, checked: pure modules stay pure, and the cycle contract bites.

The layering itself is written as import-linter contracts in pyproject.toml and
run by scripts/test (`lint-imports`); these tests cover what import-linter's
static view cannot: what actually gets imported at run time.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from careteams.domains import DOMAINS

ROOT = Path(__file__).resolve().parents[2]
PURE_KINDS = ("rules", "permissions", "enums")
IMPURE = ("flask", "flask_login", "flask_sqlalchemy", "sqlalchemy", "careteams.extensions", "careteams.app")


def _pure_modules() -> list[str]:
    return [f"careteams.{domain}.{kind}" for domain in DOMAINS for kind in PURE_KINDS
            if (ROOT / "careteams" / domain / f"{kind}.py").exists()]


def test_rules_and_permissions_run_without_flask_or_a_session():
    """Importing any domain's rules, permissions or enums loads no Flask, no
    SQLAlchemy and no app (so they can be reasoned about and tested alone)."""
    modules = _pure_modules()
    assert len(modules) >= 2 * len(DOMAINS) - 4, modules  # the check really covers them
    script = textwrap.dedent(f"""
        import importlib, sys
        for name in {modules!r}:
            importlib.import_module(name)
            loaded = [m for m in {IMPURE!r} if m in sys.modules]
            if loaded:
                print(name, "loaded", ", ".join(loaded))
                sys.exit(1)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cycle_contract_finds_a_planted_cycle(tmp_path):
    """The custom no-cycles contract fails on a package with a cycle hidden in a
    function-level import, and passes once the cycle is gone."""
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from planted import b\n")
    (package / "b.py").write_text("def f():\n    from planted import a  # hidden in a function\n")
    config = tmp_path / "contracts.toml"
    config.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_package = "planted"
        contract_types = ["no_module_cycles: tests.architecture.NoModuleCyclesContract"]

        [[tool.importlinter.contracts]]
        name = "No cycles"
        type = "no_module_cycles"
        root = "planted"
    """))
    lint = Path(sys.executable).with_name("lint-imports")

    def run():
        env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": str(lint.parent)}
        return subprocess.run([str(lint), "--config", str(config), "--no-cache"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    broken = run()
    assert broken.returncode != 0, broken.stdout
    assert "planted.a" in broken.stdout and "planted.b" in broken.stdout
    (package / "b.py").write_text("def f():\n    return 1\n")
    kept = run()
    assert kept.returncode == 0, kept.stdout + kept.stderr
