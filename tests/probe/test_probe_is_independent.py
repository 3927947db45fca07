"""The probe is a client of the guide, not of this project: it may not import the server's code."""

import ast
from pathlib import Path

import probe

PROJECT = {"his", "centers", "appointments", "results", "patients", "clients", "core", "webservices", "tests"}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_of_the_probe_imports_the_server():
    files = sorted(Path(probe.__file__).parent.rglob("*.py"))
    assert len(files) > 5
    for path in files:
        assert not imported(path) & PROJECT, path


def test_only_the_command_and_the_app_config_know_django():
    root = Path(probe.__file__).parent
    for path in root.rglob("*.py"):
        if "django" in imported(path):
            assert path.name == "apps.py" or "management" in path.parts, path
