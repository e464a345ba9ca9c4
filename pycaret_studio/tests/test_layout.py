"""The layout rules of CONTRIBUTING.md, checked: the Django-free core, module sizes, and one
way to answer an API error."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "engine", "copilots", "pycaret_studio")
MAX_LINES = 400
CORE = (
    "engine.runner",
    "engine.ingest",
    "engine.serving",
    "engine.plans",
    "engine.model_registry",
    "engine.drift",
    "engine.errors",
    "engine.metrics",
    "engine.capabilities",
    "engine.timeseries",
    "engine.numbers",
)


def _modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "migrations" not in parts and "tests" not in parts:
                yield path


def test_the_core_imports_no_django():
    code = (
        "import sys\n"
        f"for name in {CORE!r}: __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


def test_no_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_api_modules_raise_studio_errors_instead_of_building_responses():
    offenders = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in (ROOT / app).rglob("api*.py")
        if "JsonResponse" in path.read_text()
    ] + [
        str(path.relative_to(ROOT))
        for path in (ROOT / "engine" / "api").glob("*.py")
        if "JsonResponse" in path.read_text()
    ]
    assert offenders == []
