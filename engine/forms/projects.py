"""Page forms for projects and dataset uploads."""

from __future__ import annotations

from django import forms
from django.conf import settings


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ProjectRenameForm(forms.Form):
    name = forms.CharField(max_length=120, label="New name")

    def __init__(self, *args, **kwargs):
        # The project page also has the upload form's "name": ids must not collide, or the
        # second field loses its label.
        kwargs.setdefault("auto_id", "id_rename_%s")
        super().__init__(*args, **kwargs)


class DatasetUploadForm(forms.Form):
    # Empty files reach ingestion, which explains the problem the same way for page and API.
    file = forms.FileField(
        allow_empty_file=True,
        label="Data file",
        help_text="CSV, TSV or Parquet.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.parquet"}),
    )
    name = forms.CharField(
        required=False, max_length=200, label="Name", help_text="Defaults to the file name."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "file"
        ].help_text = f"CSV, TSV or Parquet, up to {settings.STUDIO_MAX_UPLOAD_MB} MB."

    @property
    def max_bytes(self) -> int:
        return settings.STUDIO_MAX_UPLOAD_MB * 1024 * 1024
