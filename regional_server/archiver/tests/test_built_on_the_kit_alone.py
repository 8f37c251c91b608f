"""Archiver proves the kit: its code imports Django, the standard library, itself and the kit's
public modules only — no kit internals, no other product, nothing of the region's project."""

import ast
import sys
from pathlib import Path

import archiver

KIT_PUBLIC = {
    "atrium_kit.products",
    "atrium_kit.directory",
    "atrium_kit.machine_auth",
    "atrium_kit.templates",
}
APP_DIR = Path(archiver.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            names.add(node.module)
    return names


def code_files() -> list[Path]:
    return [p for p in APP_DIR.rglob("*.py") if "tests" not in p.relative_to(APP_DIR).parts]


def test_archiver_imports_only_django_and_the_kits_public_modules():
    assert len(code_files()) >= 6  # models, views, urls, services, selectors, forms, migrations …
    for path in code_files():
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in ("django", "archiver") or top in sys.stdlib_module_names:
                continue
            assert name in KIT_PUBLIC, f"{path.relative_to(APP_DIR)} imports {name}"


def test_the_check_catches_a_kit_internal_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from atrium_kit.models import Tenant\nimport requests\n")
    names = imported_modules(sneaky)
    offending = {n for n in names if n.split(".")[0] not in ("django", "archiver") and n not in KIT_PUBLIC}
    assert offending == {"atrium_kit.models", "requests"}
