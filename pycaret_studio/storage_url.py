"""STORAGES["default"] from STUDIO_STORAGE_URL: local files under MEDIA_ROOT unless it is set,
any S3-compatible store (through django-storages) when it is `s3://bucket/prefix`.

Credentials are never put in the settings: boto3 reads AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (or a profile, or an instance role) from the environment itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL_STORAGE = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    # Names are server-generated and unique; saving one again replaces it.
    "OPTIONS": {"allow_overwrite": True},
}
S3_BACKEND = "storages.backends.s3.S3Storage"
S3_MEMORY_BUFFER_BYTES = 16 * 1024 * 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9!_.*'()\-]+$")


def _bad(url: str, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"STUDIO_STORAGE_URL={url!r} is not valid: {why}. Use s3://bucket or s3://bucket/prefix."
    )


def storage_from_url(url: str | None, env: Mapping[str, str]) -> dict:
    """The STORAGES["default"] entry for `url`; ImproperlyConfigured for a URL it cannot use."""
    url = (url or "").strip()
    if not url:
        return dict(LOCAL_STORAGE)
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise _bad(url, "only the s3:// scheme is supported")
    if parts.username or parts.password or parts.port:
        raise _bad(url, "credentials and ports do not belong in it (use the AWS_* variables)")
    if parts.query or parts.fragment:
        raise _bad(url, "it takes no query string or fragment")
    bucket = parts.hostname or ""
    if parts.netloc != bucket or not _BUCKET.match(bucket) or ".." in bucket:
        raise _bad(url, f"{parts.netloc!r} is not a bucket name")
    segments = [segment for segment in parts.path.split("/") if segment]
    if any(s in (".", "..") or not _PREFIX_PART.match(s) for s in segments):
        raise _bad(url, f"{parts.path!r} is not a plain prefix")
    options = {
        "bucket_name": bucket,
        "location": "/".join(segments),
        "endpoint_url": env.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": env.get("AWS_S3_REGION_NAME") or env.get("AWS_DEFAULT_REGION") or None,
        "signature_version": "s3v4",
        "default_acl": None,  # the bucket's own (private) policy, never public-read
        "querystring_auth": True,
        # Names are server-generated and unique; saving one again replaces it (no HEAD first).
        "file_overwrite": True,
        # A file read from the bucket is buffered in memory up to this size, then on disk.
        "max_memory_size": S3_MEMORY_BUFFER_BYTES,
    }
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
