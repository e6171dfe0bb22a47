"""The folder tree shows the architecture: the product never leans on the Stripe emulator."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("bokacheckout", "articles", "checkouts")
EMULATOR_PACKAGE = "stripe_emulator"


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every top-level module each file of ``package`` imports, by file."""
    imports: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        imports[str(path.relative_to(ROOT))] = names
    return imports


@pytest.mark.parametrize("package", PRODUCT_PACKAGES)
def test_no_product_module_imports_the_emulator(package):
    offenders = [
        path for path, names in imported_modules(package).items() if EMULATOR_PACKAGE in names
    ]

    assert offenders == []


def test_the_emulator_imports_nothing_of_the_product_nor_django():
    forbidden = {*PRODUCT_PACKAGES, "django", "rest_framework"}

    offenders = {
        path: names & forbidden
        for path, names in imported_modules(EMULATOR_PACKAGE).items()
        if names & forbidden
    }

    assert offenders == {}


def test_the_product_wheel_holds_no_emulator(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
    )
    (wheel,) = tmp_path.glob("bokacheckout-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    assert "checkouts/services.py" in names
    assert "bokacheckout/demo/templates/demo/checkout.html" in names
    assert not [name for name in names if name.startswith(f"{EMULATOR_PACKAGE}/")]
