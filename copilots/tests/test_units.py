"""The small pieces: the litellm boundary, reply parsing, redaction, fencing, verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilots.prompting import (
    TRUNCATED,
    ReplyError,
    cap_data,
    data_block,
    json_for_prompt,
    normalise_common,
    parse_reply,
)
from copilots.redaction import REDACTED, redact, redact_text
from copilots.verdicts import verdict_level, verdict_tone

REPO = Path(__file__).resolve().parents[2]


def test_web_start_up_does_not_import_litellm():
    code = (
        "import django, sys; django.setup(); "
        "import pycaret_studio.urls, pycaret_studio.wsgi, copilots.api, copilots.views, "
        "copilots.services, copilots.templatetags.copilots; "
        "from django.urls import resolve; resolve('/api/v1/llm/consultations'); "
        "assert 'litellm' not in sys.modules, 'litellm was imported'; "
        "assert 'pycaret' not in sys.modules, 'pycaret was imported'"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pycaret_studio.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_llm_module_is_the_only_importer_of_litellm():
    apps = ("accounts", "engine", "copilots", "pycaret_studio")
    importers = [
        path.relative_to(REPO).as_posix()
        for app in apps
        for path in (REPO / app).rglob("*.py")
        if "tests" not in path.parts and "import litellm" in path.read_text(errors="replace")
    ]
    assert importers == ["copilots/llm.py"]


# Parsing.


@pytest.mark.parametrize(
    "text",
    [
        '{"reasoning_summary": "ok", "recommendations": ["a"]}',
        '```json\n{"reasoning_summary": "ok", "recommendations": ["a"]}\n```',
        'Sure! ```\n{"reasoning_summary": "ok", "recommendations": ["a"]}\n``` hope it helps',
        'Here: {"reasoning_summary": "ok", "recommendations": ["a"]} done',
    ],
)
def test_parse_reply_tolerates_fences_and_chatter(text):
    assert normalise_common(parse_reply(text)) == {
        "reasoning_summary": "ok",
        "recommendations": ["a"],
    }


def test_plain_text_becomes_the_summary():
    assert parse_reply("  The run is fine.  ") == {"reasoning_summary": "The run is fine."}


@pytest.mark.parametrize(
    "text", ["", "   ", '{"reasoning_summary": "cut', "[1, 2]", "```json\n{oops\n```"]
)
def test_unusable_replies(text):
    with pytest.raises(ReplyError):
        parse_reply(text)


def test_reply_without_advice_is_unusable():
    with pytest.raises(ReplyError):
        normalise_common(parse_reply('{"foo": 1}'))


def test_recommendations_are_cleaned_and_capped():
    parsed = normalise_common(
        {"reasoning_summary": "x" * 10_000, "recommendations": "- one\n- two\n\n* three"}
    )
    assert parsed["recommendations"] == ["one", "two", "three"]
    assert len(parsed["reasoning_summary"]) == 4_001


# Fencing and caps.


def test_json_for_prompt_escapes_backticks_and_stays_json():
    text = json_for_prompt({"name": "```x```"})
    assert "`" not in text
    assert json.loads(text) == {"name": "```x```"}


def test_cap_data_shrinks_lists_and_strings():
    data = {"rows": list(range(5_000)), "blob": "y" * 50_000}
    capped = cap_data(data, limit=4_000)
    assert len(json_for_prompt(capped)) <= 4_000
    kept, marker = capped["rows"][:-1], capped["rows"][-1]
    assert kept == list(range(len(kept)))
    assert marker == {TRUNCATED: 5_000 - len(kept)}
    assert "more characters" in capped["blob"]


def test_data_block_is_labelled_as_data():
    block = data_block("evidence", {"a": 1})
    assert block.startswith("BEGIN DATA evidence\n```json\n")
    assert block.endswith("\n```\nEND DATA evidence")


# Redaction.


def test_redacts_api_keys_and_url_credentials():
    key = "pck_" + "a1B2" * 11
    text = f"key={key} url=postgresql://user:s3cret@db:5432/x redis://:pw123456@cache:6379/0"
    redacted = redact_text(text, secrets=[])
    assert key not in redacted and "s3cret" not in redacted and "pw123456" not in redacted
    assert "postgresql://[REDACTED]@db:5432/x" in redacted
    assert "pck_[REDACTED]" in redacted


def test_redacts_secret_settings_and_env(settings, monkeypatch):
    settings.SECRET_KEY = "django-insecure-abcdefghijklmnop"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-0123456789abcdefghij")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-value-that-is-long")
    redacted = redact(
        {
            "a": f"{settings.SECRET_KEY} sk-proj-0123456789abcdefghij",
            "tok-value-that-is-long": ["nested tok-value-that-is-long"],
        }
    )
    text = json.dumps(redacted)
    assert settings.SECRET_KEY not in text
    assert "0123456789abcdefghij" not in text
    assert "tok-value-that-is-long" not in text
    assert REDACTED in text


def test_short_env_values_are_not_redacted(monkeypatch):
    monkeypatch.setenv("SOME_KEY", "yes")
    assert redact_text("yes, this stays") == "yes, this stays"


def test_redaction_finishes_on_pathological_megabyte_inputs():
    """Each input is 1 MB shaped to make a backtracking engine go quadratic (the URL-credential
    pattern took minutes on such a string); a linear engine finishes in well under a second."""
    code = """
import django
django.setup()
from copilots.redaction import redact_text
mb = 1_000_000
inputs = [
    "a." * (mb // 2),                      # a word boundary before every letter, no '://'
    "a-" * (mb // 2),
    "x+" * (mb // 2) + "://",
    "ab://" * (mb // 5),                   # a scheme every five characters, never an '@'
    "Bearer" + " " * mb,
    "n" * mb,                              # an 1 MB column name
    ("pck_" + "A" * 40 + " ") * (mb // 45),
]
for text in inputs:
    redacted = redact_text(text, secrets=["a-secret-value"])
    assert len(redacted) < 250_000, len(redacted)
print("done")
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pycaret_studio.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,  # the process start-up (Django) is most of it
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "done"


def test_a_long_string_is_cut_after_its_secrets_are_redacted():
    from copilots.redaction import STRING_CAP

    key = "pck_" + "Zx9" * 14
    head = "u" * (STRING_CAP - 20)
    # The URL's password straddles the cap: it is redacted whole before the string is cut.
    text = f"{key} {head}postgresql://studio:hunter2hunter2@db:5432/x" + "t" * 500_000
    redacted = redact_text(text, secrets=[])
    assert key not in redacted and "hunter2" not in redacted and "hunter" not in redacted
    assert redacted.startswith("pck_[REDACTED] ")
    assert redacted.endswith(f"… [{len(text) - STRING_CAP} more characters]")
    assert len(redacted) < STRING_CAP + 100


def test_redaction_still_covers_every_shape():
    text = (
        "pck_abcd1234 mysql://root:toor@db/x "
        "https://ghp_aaaaaaaaaaaaaaaaaaaaaaaa@github.com/o/r sk-ant-0123456789abcdefghijkl "
        "AKIAABCDEFGHIJKLMNOP ghp_0123456789abcdefghijABCD Authorization: Bearer abc.def-ghi_jkl012 "
        "token   0123456789abcdef0123 the env value a-secret-value-here"
    )
    redacted = redact_text(text, secrets=["a-secret-value-here"])
    for secret in (
        "abcd1234",
        "toor",
        "ghp_aaaa",
        "0123456789abcdefghijkl",
        "AKIAABCDEFGHIJKLMNOP",
        "ghp_0123",
        "abc.def-ghi_jkl012",
        "0123456789abcdef0123",
        "a-secret-value-here",
    ):
        assert secret not in redacted, secret
    assert "mysql://[REDACTED]@db/x" in redacted
    assert "Bearer [REDACTED]" in redacted and "token [REDACTED]" in redacted


# Verdicts.


@pytest.mark.parametrize(
    "verdict, level, tone",
    [
        ("APPROVE", 0, "text-success-500"),
        ("APPROVE. Looks fine.", 0, "text-success-500"),
        ("APPROVE WITH CAVEATS: small data", 1, "text-warn-500"),
        ("DO NOT DEPLOY: overfit", 2, "text-danger-500"),
        ("APPROVE WITH CAVEATS small data", None, "text-warn-500"),
        ("DO NOT DEPLOY overfit", None, "text-danger-500"),
        ("APPROVED", None, "text-success-500"),
        ("approve", None, ""),
        ("Looks good", None, ""),
        ("", None, ""),
        (None, None, ""),
    ],
)
def test_verdict_contract_and_tone(verdict, level, tone):
    assert verdict_level(verdict) == level
    assert verdict_tone(verdict) == tone
