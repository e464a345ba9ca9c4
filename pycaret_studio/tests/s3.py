"""A real S3-compatible HTTP endpoint for the tests: moto in server mode on 127.0.0.1, reached
through boto3 and django-storages exactly as a production bucket is.

`S3Endpoint` starts it and makes a bucket; `worker_env` is what a worker process needs to use
it (STUDIO_STORAGE_URL and the AWS variables, as an operator sets them); `storages_setting` is
the same storage for this process, for `override_settings(STORAGES=...)`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace

from pycaret_studio.storage_url import storage_from_url

REGION = "us-east-1"
# moto accepts any credentials; these are not secrets.
ACCESS_KEY = "studio-test-access"
SECRET_KEY = "studio-test-secret"  # noqa: S105


@dataclass
class S3Endpoint:
    """A moto server in a thread of this process, and one bucket in it."""

    bucket: str = field(default_factory=lambda: f"studio-test-{uuid.uuid4().hex[:12]}")
    prefix: str = "artifacts"
    url: str = ""
    _server: object = None

    def start(self) -> S3Endpoint:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request: quiet
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def at(self, prefix: str) -> S3Endpoint:
        """The same server and bucket, below another prefix (a test's own corner of it)."""
        return replace(self, prefix=prefix)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    @property
    def storage_url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def worker_env(self) -> dict[str, str]:
        """The environment a worker (or any studio process) is given to use this bucket."""
        return {
            "STUDIO_STORAGE_URL": self.storage_url,
            "AWS_S3_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def storages_setting(self, current: dict) -> dict:
        """`current` STORAGES with "default" on this bucket, built from the same variables."""
        env = self.worker_env()
        default = storage_from_url(env["STUDIO_STORAGE_URL"], env)
        default["OPTIONS"] |= {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
        return {**current, "default": default}

    def object_keys(self, prefix: str = "") -> list[str]:
        """Every object key in the bucket below `prefix` (below the storage's own prefix)."""
        paginator = self.client().get_paginator("list_objects_v2")
        full = f"{self.prefix}/{prefix}" if prefix else f"{self.prefix}/"
        keys = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys += [item["Key"] for item in page.get("Contents", ())]
        return sorted(keys)
