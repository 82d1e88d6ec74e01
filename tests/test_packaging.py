"""The package works installed from a wheel: data folders ship inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return config["packages"], config.get("package-dir", {})


def test_every_python_package_in_the_tree_is_declared():
    packages, mapped = _declared()
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "cms_workflows").rglob("__init__.py")}
    found |= {f"cms_workflows.{folder}" for folder in mapped.values()}
    assert found - {"cms_workflows.__pycache__"} <= set(packages), sorted(found - set(packages))
    for package, folder in mapped.items():
        assert (ROOT / folder / "__init__.py").exists(), package


def test_wheel_contains_the_data_and_runs_without_the_source_tree(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("cms_workflows-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("cms_workflows/policies/model.conf", "cms_workflows/policies/policy.csv", "cms_workflows/policies/vocabulary.yaml",
                     "cms_workflows/data/roles.yaml", "cms_workflows/locales/zh-CN/core.yaml", "cms_workflows/locales/en/core.yaml",
                     "cms_workflows/migrations/env.py", "cms_workflows/migrations/versions/0001_foundation.py",
                     "cms_workflows/data/verify_evidence.py"):
        assert required in names, required
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True, capture_output=True)
    # run from an empty folder with the wheel's copy first on the path: nothing comes from the source tree
    code = (
        f"import sys; sys.path.insert(0, {str(target)!r}); import cms_workflows, cms_workflows.cli.main as c; "
        f"assert cms_workflows.__file__.startswith({str(target)!r}), cms_workflows.__file__; "
        "sys.argv = ['cms', 'init']; c.main()"
    )
    work = tmp_path / "cwd"
    work.mkdir()
    env = {**os.environ, "CMS_DATA_DIR": str(work / "data"), "CMS_LOCALE": "en", "CMS_CONFIG_DIR": str(work / "config")}
    env.pop("CMS_DATABASE_URL", None)
    r = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Database ready" in r.stdout
    check = code.replace("'init'", "'policy', 'check'")
    r = subprocess.run([sys.executable, "-c", check], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "Policy OK" in r.stdout, r.stderr
