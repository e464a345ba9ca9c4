"""Markup rules that hold across every page: fields that assistive technology can follow, and
templates that a Content-Security-Policy without 'unsafe-inline' leaves working."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import workspace_of
from engine.tests.factories import make_dataset, make_experiment, make_project

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STYLESHEET = ROOT / "static" / "css" / "studio.css"


class _Ids(HTMLParser):
    """Every element id on a page, and every id that an aria-describedby names."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for ref in (attrs.get("aria-describedby") or "").split():
            self.described_by.append((tag, ref))


def dangling_descriptions(html: str, *, describes: bool = True) -> list[tuple[str, str]]:
    """The (tag, id) pairs whose aria-describedby names no element on the page."""
    parser = _Ids()
    parser.feed(html)
    if describes:  # a page that describes no field would pass without proving anything
        assert parser.described_by
    return [(tag, ref) for tag, ref in parser.described_by if ref not in parser.ids]


def page(response, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
    return response.content.decode()


@pytest.fixture
def experiment(alice):
    frame = pd.DataFrame({"x": [float(i) for i in range(40)], "y": [0, 1] * 20})
    return make_experiment(make_dataset(make_project(alice), frame), target="y")


def test_login_and_signup_describe_their_fields_with_elements_that_exist(db, settings):
    settings.STUDIO_SIGNUP_OPEN = True
    client = Client()
    assert dangling_descriptions(page(client.get(reverse("accounts:signup")))) == []
    refused = client.post(
        reverse("accounts:signup"), {"username": "", "password1": "a", "password2": "b"}
    )
    html = page(refused)
    assert 'id="id_username_error"' in html and dangling_descriptions(html) == []

    # The login form has no help text, and its one error belongs to the whole form.
    login = page(client.get(reverse("accounts:login")))
    assert dangling_descriptions(login, describes=False) == []
    wrong = page(client.post(reverse("accounts:login"), {"username": "x", "password": "y"}))
    assert "correct username and password" in wrong
    assert dangling_descriptions(wrong, describes=False) == []


def test_api_key_and_member_forms_describe_their_fields(alice_client, alice):
    keys = reverse("accounts:api_keys")
    assert dangling_descriptions(page(alice_client.get(keys))) == []
    refused = alice_client.post(keys, {"name": "", "expires_in_days": "0", "scopes": ["nope"]})
    html = page(refused, 422)
    assert 'id="id_name_error"' in html and dangling_descriptions(html) == []

    workspace = workspace_of(alice)
    members = page(alice_client.get(reverse("accounts:workspace_detail", args=[workspace.pk])))
    assert 'id="id_identifier"' in members
    assert dangling_descriptions(members, describes=False) == []
    refused = alice_client.post(
        reverse("accounts:member_add", args=[workspace.pk]), {"identifier": "", "role": "x"}
    )
    html = page(refused, 422)
    assert 'id="id_identifier_error"' in html
    assert 'aria-describedby="id_identifier_error"' in html
    assert dangling_descriptions(html) == []


def test_upload_experiment_and_run_forms_describe_their_fields(alice_client, experiment):
    project, dataset = experiment.project, experiment.dataset

    project_page = page(alice_client.get(reverse("project_detail", args=[project.pk])))
    assert 'aria-describedby="id_file_helptext"' in project_page
    assert dangling_descriptions(project_page) == []
    upload = alice_client.post(reverse("dataset_upload", args=[project.pk]), {"name": "x"})
    html = page(upload, 422)
    assert 'id="id_file_error"' in html and dangling_descriptions(html) == []

    dataset_page = page(alice_client.get(reverse("dataset_detail", args=[dataset.pk])))
    assert 'id="id_train_size_helptext"' in dataset_page
    assert dangling_descriptions(dataset_page) == []
    create = reverse("experiment_create", args=[dataset.pk])
    html = page(alice_client.post(create, {"name": "", "task": "nope", "train_size": "x"}), 422)
    assert 'id="id_train_size_error"' in html and dangling_descriptions(html) == []

    experiment_page = page(alice_client.get(reverse("experiment_detail", args=[experiment.pk])))
    assert 'aria-describedby="id_fold_helptext"' in experiment_page
    assert dangling_descriptions(experiment_page) == []
    submit = reverse("run_create", args=[experiment.pk])
    html = page(alice_client.post(submit, {"kind": "tune", "fold": "1"}), 422)
    assert 'id="id_model_id_error"' in html and 'id="id_fold_error"' in html
    assert dangling_descriptions(html) == []


# Nothing inline: behaviour lives in static/js, looks in static/css.

TAG = re.compile(r"<[a-zA-Z][^<>]*>")
INLINE = {
    "an on<event>= handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "an hx-on attribute": re.compile(r"\shx-on\b", re.I),
    "a style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "a javascript: URL": re.compile(r"=\s*[\"']?\s*javascript:", re.I),
}
SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)


def inline_code(text: str) -> list[str]:
    """What in a template needs 'unsafe-inline': one line per finding."""
    found = [
        f"{what}: {tag}"
        for tag in TAG.findall(text)
        for what, pattern in INLINE.items()
        if pattern.search(tag)
    ]
    found += [
        f"an inline script: {body.strip()[:60]}" for body in SCRIPT.findall(text) if body.strip()
    ]
    found += ["a <style> element"] * len(STYLE_ELEMENT.findall(text))
    return found


def test_the_inline_check_finds_what_it_looks_for():
    bad = """<select onchange="this.form.submit()"><button hx-on:click="x()">
    <span style="width: 5%"><script>alert(1)</script><style>a{}</style><a href="javascript:x()">"""
    assert len(inline_code(bad)) == 6
    good = """<script src="/static/js/studio.js" defer></script>
    <p>Based on=data, in a sentence</p><button data-copy-target="#x">Copy</button>"""
    assert inline_code(good) == []


def test_no_template_has_inline_script_or_style():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    found = {
        str(path.relative_to(TEMPLATES)): problems
        for path in templates
        if (problems := inline_code(path.read_text()))
    }
    assert found == {}


# Colours come from the palette: custom properties defined once, in the :root block.

COMMENT = re.compile(r"/\*.*?\*/", re.S)
BLOCK = re.compile(r"([^{}]*)\{([^{}]*)\}")  # a selector and its declarations, at any depth
COLOUR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(", re.I)
HEX = re.compile(r"#[0-9a-f]{3,8}\b", re.I)
VARIABLE = re.compile(r"--[\w-]+")


def raw_colours(css: str) -> list[str]:
    """Colour literals outside the :root block, as "property: value"."""
    from PIL.ImageColor import colormap  # the CSS named colours

    found = []
    for selector, body in BLOCK.findall(COMMENT.sub("", css)):
        if selector.strip().startswith(":root"):
            continue  # the palette
        for declaration in body.split(";"):
            prop, _, value = (part.strip() for part in declaration.partition(":"))
            bare = VARIABLE.sub("", HEX.sub("", value))
            words = {word.lower() for word in re.findall(r"[a-z]+", bare, re.I)}
            if HEX.search(value) or COLOUR_FUNCTION.search(value) or words & colormap.keys():
                found.append(f"{prop}: {value}")
    return found


def test_the_colour_check_finds_what_it_looks_for():
    css = """:root { --text: #1c2430; --shade: rgba(0, 0, 0, .5); }
    a { color: var(--text); border: 1px solid transparent; background: currentColor; }
    b { color: #fff; } i { background: rgb(1 2 3); } u { outline: 2px solid white; }"""
    assert raw_colours(css) == ["color: #fff", "background: rgb(1 2 3)", "outline: 2px solid white"]


def test_the_stylesheet_takes_every_colour_from_the_palette():
    css = STYLESHEET.read_text()
    assert "--primary:" in css
    assert raw_colours(css) == []


def test_the_stylesheet_has_one_declaration_per_line():
    crowded = [
        line.strip()
        for line in COMMENT.sub("", STYLESHEET.read_text()).splitlines()
        if line.count(";") > 1 or ("{" in line and ":" in line.split("{", 1)[1])
    ]
    assert crowded == []


def test_every_rule_in_the_stylesheet_is_closed_and_has_a_selector():
    """A merge that drops a brace nests every later rule; one that interleaves blocks leaves
    declarations with no selector. Browsers drop both silently, so the test says so."""
    depth = 0
    orphans = []
    for number, line in enumerate(COMMENT.sub("", STYLESHEET.read_text()).splitlines(), 1):
        if depth == 0 and line.strip().endswith(";"):
            orphans.append(number)
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"line {number} closes a rule that was never opened"
    assert depth == 0, "a rule is never closed"
    assert orphans == [], f"declarations outside any rule at lines {orphans}"
