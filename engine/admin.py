"""The engine in the admin, read-only: projects, datasets, experiments, runs, pipelines and
deployments, to look things up across workspaces. Every change goes through the studio's
services (which check permissions and audit), so the admin neither adds, changes nor deletes."""

from django.contrib import admin

from engine.models import Dataset, Deployment, Experiment, Pipeline, Project, Run


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists, filters, searches and shows every field; no add, change or delete."""

    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}  # "delete selected" included: nothing here writes


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["name", "workspace", "created_by", "created_at", "updated_at"]
    list_filter = ["workspace", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["name", "description", "workspace__name", "created_by__username"]
    list_select_related = ["workspace", "created_by"]


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "project",
        "source_format",
        "n_rows",
        "n_cols",
        "size_bytes",
        "created_by",
        "created_at",
    ]
    list_filter = ["source_format", "project__workspace", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["name", "original_filename", "project__name", "created_by__username"]
    list_select_related = ["project", "created_by"]


@admin.register(Experiment)
class ExperimentAdmin(ReadOnlyAdmin):
    list_display = ["name", "project", "task", "target", "dataset", "created_by", "created_at"]
    list_filter = ["task", "project__workspace", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["name", "target", "project__name", "dataset__name", "created_by__username"]
    list_select_related = ["project", "dataset", "created_by"]


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "experiment",
        "kind",
        "status",
        "model_name",
        "error_category",
        "created_by",
        "queued_at",
        "finished_at",
    ]
    list_filter = [
        "status",
        "error_category",
        "experiment__task",
        "experiment__project__workspace",
        ("queued_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "=id",
        "experiment__name",
        "experiment__project__name",
        "model_name",
        "model_id",
        "error_message",
        "created_by__username",
    ]
    list_select_related = ["experiment", "created_by"]

    @admin.display(description="Kind")
    def kind(self, obj: Run) -> str:
        return (obj.plan or {}).get("kind", "")


@admin.register(Pipeline)
class PipelineAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "version",
        "project",
        "task",
        "model_name",
        "origin_run",
        "promoted_by",
        "created_at",
    ]
    list_filter = ["task", "project__workspace", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["name", "model_name", "model_id", "project__name", "promoted_by__username"]
    list_select_related = ["project", "promoted_by", "origin_run"]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["slug", "project", "pipeline", "is_active", "created_by", "updated_at"]
    list_filter = ["is_active", "project__workspace", ("updated_at", admin.DateFieldListFilter)]
    search_fields = ["slug", "project__name", "pipeline__name", "created_by__username"]
    list_select_related = ["project", "pipeline", "created_by"]
