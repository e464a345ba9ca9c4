"""A scripted OpenAI-compatible chat server on 127.0.0.1, for driving litellm in tests.

Each POST to /v1/chat/completions (or /chat/completions) takes the next scripted behaviour:
a reply text, a delay, an HTTP error status, or a body that is not JSON at all. With the
script empty it answers a default reply. Every request is recorded, parsed, for assertions on
what was really sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_REPLY = json.dumps(
    {
        "reasoning_summary": "Loopback LLM: the evidence looks fine.",
        "recommendations": ["Loopback recommendation."],
    }
)


@dataclass
class Behaviour:
    reply: str | None = None
    status: int = 200
    delay_s: float = 0.0
    garbage: bool = False


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def text(self) -> str:
        """Every message's content, joined: what the model would read."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


@dataclass
class LoopbackLLM:
    """The scripted server; `url` is its base, `api_base` what COPILOT_API_BASE points at."""

    url: str = ""
    script: list[Behaviour] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_base(self) -> str:
        return self.url + "/v1"

    def reply(self, text: str | dict) -> None:
        self.script.append(Behaviour(reply=text if isinstance(text, str) else json.dumps(text)))

    def fail(self, status: int) -> None:
        self.script.append(Behaviour(status=status))

    def delay(self, seconds: float, text: str = DEFAULT_REPLY) -> None:
        self.script.append(Behaviour(reply=text, delay_s=seconds))

    def garbage(self) -> None:
        self.script.append(Behaviour(garbage=True))

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.requests.clear()

    def _next(self) -> Behaviour:
        with self.lock:
            return self.script.pop(0) if self.script else Behaviour(reply=DEFAULT_REPLY)


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 123, "completion_tokens": 45, "total_tokens": 168},
    }


def _handler(server_state: LoopbackLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
            return

        def _send(self, status: int, body: bytes, content_type: str = "application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # the client may have given up already (a timeout test)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"__raw__": raw.decode("utf-8", "replace")}
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._send(404, b'{"error": {"message": "not found"}}')
                return
            with server_state.lock:
                server_state.requests.append(
                    RecordedRequest(self.path, dict(self.headers.items()), body)
                )
            behaviour = server_state._next()
            if behaviour.delay_s:
                time.sleep(behaviour.delay_s)
            if behaviour.garbage:
                self._send(200, b"<html>this is not JSON {{{", "application/json")
                return
            if behaviour.status != 200:
                error = {
                    "error": {
                        "message": f"scripted HTTP {behaviour.status}",
                        "type": "server_error" if behaviour.status >= 500 else "rate_limit",
                        "code": str(behaviour.status),
                    }
                }
                self._send(behaviour.status, json.dumps(error).encode())
                return
            model = str(body.get("model", "test-model"))
            payload = _completion(behaviour.reply or "", model)
            self._send(200, json.dumps(payload).encode())

    return Handler


class LoopbackServer:
    """Start and stop the server in a daemon thread on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.state = LoopbackLLM()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.state.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackLLM:
        self.thread.start()
        return self.state

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
