"""STUDIO_STORAGE_URL: local files by default, an S3 bucket with s3://bucket/prefix, and a clear
refusal to start for a URL the studio cannot use."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from pycaret_studio.storage_url import LOCAL_STORAGE, S3_BACKEND, storage_from_url
from pycaret_studio.tests.support import REPO_ROOT


@pytest.mark.parametrize("url", [None, "", "   "])
def test_without_a_url_files_stay_local_under_media_root(url):
    assert storage_from_url(url, {}) == LOCAL_STORAGE
    assert LOCAL_STORAGE["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_an_s3_url_with_the_aws_variables_configures_a_private_v4_bucket():
    env = {
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIA-not-in-settings",
        "AWS_SECRET_ACCESS_KEY": "never-in-settings",
    }
    config = storage_from_url("s3://studio-artifacts/prod/v1/", env)
    assert config["BACKEND"] == S3_BACKEND
    options = config["OPTIONS"]
    assert options["bucket_name"] == "studio-artifacts"
    assert options["location"] == "prod/v1"
    assert options["endpoint_url"] == "http://minio:9000"
    assert options["region_name"] == "eu-west-1"
    assert options["signature_version"] == "s3v4"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["max_memory_size"] > 0  # a large download spills to disk, not memory
    # boto3 reads the credentials from the environment; the settings never hold them.
    assert "never-in-settings" not in repr(config) and "AKIA" not in repr(config)


def test_aws_s3_region_name_wins_over_aws_default_region_and_a_bare_bucket_has_no_prefix():
    env = {"AWS_S3_REGION_NAME": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"}
    options = storage_from_url("s3://my.bucket-1", env)["OPTIONS"]
    assert (options["region_name"], options["location"], options["endpoint_url"]) == (
        "us-west-2",
        "",
        None,
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://bucket/prefix", "only the s3:// scheme"),
        ("file:///var/media", "only the s3:// scheme"),
        ("s3://", "is not a bucket name"),
        ("s3://ab", "is not a bucket name"),
        ("s3://Upper_Case", "is not a bucket name"),
        ("s3://key:secret@bucket/x", "credentials and ports"),
        ("s3://bucket:9000/x", "credentials and ports"),
        ("s3://bucket/x?acl=public-read", "no query string"),
        ("s3://bucket/../other", "is not a plain prefix"),
        ("s3://bucket/a b", "is not a plain prefix"),
    ],
)
def test_a_bad_url_is_refused_with_the_reason(url, why):
    with pytest.raises(ImproperlyConfigured, match="STUDIO_STORAGE_URL") as caught:
        storage_from_url(url, {})
    assert why in str(caught.value)


def test_the_studio_does_not_start_with_a_bad_url():
    env = {**os.environ, "STUDIO_STORAGE_URL": "ftp://bucket/x"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "STUDIO_STORAGE_URL='ftp://bucket/x' is not valid" in done.stderr
