"""Create an API key for a user and print its plaintext once (for administrators and scripts)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Scope, User, Workspace
from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key and print the plaintext once. It cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", nargs="+", default=[Scope.READ], choices=Scope.values)
        parser.add_argument("--workspace", help="Bind the key to the workspace with this slug.")
        parser.add_argument("--expires-in-days", type=int)

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        workspace = None
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        try:
            key, plaintext = api_key_create(
                user=user,
                name=options["name"],
                scopes=options["scopes"],
                workspace=workspace,
                expires_in_days=options["expires_in_days"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Created {key.name} ({key.prefix}…). Store it now: it is shown once.")
        self.stdout.write(plaintext)
