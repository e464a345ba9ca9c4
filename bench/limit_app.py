"""The limit for serving: the smallest WSGI app that serves a pipeline file.

Used by bench/serving.py under the same gunicorn settings as the studio:

    LIMIT_ARTIFACT=/path/pipeline.pkl LIMIT_SHA256=<hex> gunicorn limit_app:app --workers 2

At import it reads the artifact, checks its sha256 like the studio does, and unpickles those
bytes. `POST /predict` with `{"rows": [{column: value}]}` answers
`{"probabilities": [[...], ...]}` from one `predict_proba` call on the rows' DataFrame. No
authentication, no checks, no log: that is what makes it the limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _load():
    data = Path(os.environ["LIMIT_ARTIFACT"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != os.environ["LIMIT_SHA256"]:
        raise SystemExit("the artifact does not match LIMIT_SHA256")
    from engine.runner import prepare_pycaret_import

    prepare_pycaret_import()
    import joblib

    return joblib.load(io.BytesIO(data))


import pandas as pd  # noqa: E402

pipeline = _load()


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":
        start_response("405 Method Not Allowed", [("Content-Length", "0")])
        return [b""]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    rows = json.loads(environ["wsgi.input"].read(length))["rows"]
    proba = pipeline.predict_proba(pd.DataFrame(rows))
    body = json.dumps({"probabilities": proba.tolist()}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
