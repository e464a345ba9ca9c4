"""Copy-paste examples of calling a deployment: curl, Python `requests` and JavaScript `fetch`,
built from the pipeline's input schema and a real row of its training data, and the PyCaret
snippet that loads a downloaded pipeline."""

from __future__ import annotations

import json
import shlex

from django import template

register = template.Library()

KEY_ENV = "PYCARET_KEY"


def _body(deployment, example: dict) -> dict:
    if deployment.pipeline.task == "time_series":
        return {"fh": int((deployment.pipeline.origin_run.summary or {}).get("fh") or 12)}
    row = dict(example) or {f["name"]: None for f in deployment.pipeline.feature_schema}
    return {"rows": [row]}


@register.simple_tag
def api_snippets(deployment, example: dict, url: str) -> dict[str, str]:
    """{curl, python, javascript}: the same predict request three ways. The API key comes from
    the PYCARET_KEY environment variable, never from the page."""
    body = _body(deployment, example or {})
    compact = json.dumps(body, ensure_ascii=False)
    pretty = json.dumps(body, indent=2, ensure_ascii=False)
    curl = (
        f"curl -X POST {shlex.quote(url)} \\\n"
        f'  -H "X-PyCaret-Key: ${KEY_ENV}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d {shlex.quote(compact)}"
    )
    python = (
        "import os\n\nimport requests\n\n"
        f"body = {_python_literal(body)}\n"
        "response = requests.post(\n"
        f"    {json.dumps(url)},\n"
        f'    headers={{"X-PyCaret-Key": os.environ["{KEY_ENV}"]}},\n'
        "    json=body,\n"
        "    timeout=30,\n"
        ")\n"
        "response.raise_for_status()\n"
        'print(response.json()["predictions"])'
    )
    javascript = (
        f"const body = {pretty};\n"
        f"const response = await fetch({json.dumps(url)}, {{\n"
        '  method: "POST",\n'
        "  headers: {\n"
        f'    "X-PyCaret-Key": process.env.{KEY_ENV},\n'
        '    "Content-Type": "application/json",\n'
        "  },\n"
        "  body: JSON.stringify(body),\n"
        "});\n"
        "if (!response.ok) throw new Error((await response.json()).detail);\n"
        "console.log((await response.json()).predictions);"
    )
    return {"curl": curl, "python": python, "javascript": javascript}


def _python_literal(value) -> str:
    """The body as a Python literal (None, True and False where JSON has null, true, false)."""
    import pprint

    return pprint.pformat(value, sort_dicts=False, width=88)


@register.simple_tag
def load_model_snippet(pipeline, filename: str) -> str:
    """How to load the downloaded .pkl with PyCaret (the file name without .pkl)."""
    module = {
        "classification": "classification",
        "regression": "regression",
        "clustering": "clustering",
        "anomaly": "anomaly",
        "time_series": "time_series",
    }.get(pipeline.task, "classification")
    stem = filename.removesuffix(".pkl")
    if pipeline.task == "time_series":
        use = "print(predict_model(pipeline, fh=12))"
    else:
        use = "print(predict_model(pipeline, data=rows))  # rows: a pandas DataFrame"
    return (
        f"# check first: sha256sum {filename} should print {pipeline.artifact_sha256}\n"
        f"from pycaret.{module} import load_model, predict_model\n\n"
        f'pipeline = load_model("{stem}")\n'
        f"{use}"
    )
