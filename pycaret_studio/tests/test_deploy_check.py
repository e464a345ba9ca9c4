"""Production and local settings: `check --deploy` is clean, DEBUG is off unless set, and
production serves hashed, compressed static files with long cache lifetimes."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a deployment sets; everything else comes from the settings' defaults.
PRODUCTION = {
    "SECRET_KEY": "x" * 64 + "-production-like-secret-key-for-the-check",
    "ALLOWED_HOSTS": "studio.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
}
CONFIGURATION = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "STATIC_ROOT")


def bare_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test process's environment without any of the studio's configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in CONFIGURATION and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        STUDIO_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="pycaret_studio.settings"
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_check_deploy_is_clean_in_production(tmp_path):
    env = bare_environment(tmp_path, DEBUG="false", **PRODUCTION)
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = bare_environment(tmp_path, ALLOWED_HOSTS="studio.example.com")
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PAGE_PROBE = """
import re, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST=HOST)
print("DEBUG", settings.DEBUG)
missing = client.get("/no-such-page/", secure=True)
print("404", missing.status_code, "URLconf" in missing.content.decode())
login = client.get("/account/login/", secure=True)
css = re.search(r'href="(/static/css/studio[^"]*\\.css)"', login.content.decode()).group(1)
print("CSS", css)
asset = client.get(css, secure=True, HTTP_ACCEPT_ENCODING="gzip, br")
print("ASSET", asset.status_code, asset.get("Content-Encoding"), asset.get("Cache-Control"))
"""


def probe(env: dict[str, str], host: str) -> dict[str, str]:
    result = run([sys.executable, "-c", f"HOST = {host!r}\n{PAGE_PROBE}"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())


def test_debug_is_off_unless_set_and_a_fresh_clone_still_serves_on_loopback(tmp_path):
    seen = probe(bare_environment(tmp_path), "127.0.0.1")
    assert seen["DEBUG"] == "False"
    # Django's debug 404 lists every URL pattern; the plain one does not.
    assert seen["404"] == "404 False"
    assert seen["CSS"] == "/static/css/studio.css"  # served from static/, no collectstatic
    assert seen["ASSET"].startswith("200 ")
    assert (tmp_path / "var" / "secret_key").exists()


def test_production_serves_hashed_compressed_static_files_for_a_year(tmp_path):
    env = bare_environment(
        tmp_path, STATIC_ROOT=str(tmp_path / "static"), SECURE_SSL_REDIRECT="false", **PRODUCTION
    )
    collected = run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    assert collected.returncode == 0, collected.stderr[-3000:]
    seen = probe(env, "studio.example.com")
    assert seen["DEBUG"] == "False"
    assert re.fullmatch(r"/static/css/studio\.[0-9a-f]{12}\.css", seen["CSS"]), seen["CSS"]
    status, encoding, cache_control = seen["ASSET"].split(" ", 2)
    assert status == "200"
    assert encoding in ("gzip", "br")
    assert "max-age=315360000" in cache_control and "immutable" in cache_control


def test_the_docker_image_runs_with_debug_off():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^\s+DEBUG=false\b", dockerfile, re.MULTILINE)
    assert "DEBUG=true" not in dockerfile
