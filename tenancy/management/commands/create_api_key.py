from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.roles import API_KEY_ROLES, OrgRole
from tenancy.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organization. Prints the key, once, and nothing else."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--role", default=OrgRole.MANAGER.value, choices=[r.value for r in API_KEY_ROLES]
        )

    def handle(self, *args, **opts):
        org = Organization.objects.filter(slug=opts["org"]).first()
        if org is None:
            raise CommandError(f"No organization with slug {opts['org']!r}.")
        actor = Actor.system(org, _("command line"))
        try:
            _key, raw = api_key_create(actor=actor, name=opts["name"], role=opts["role"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(raw)
