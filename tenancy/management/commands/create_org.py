from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tenancy.services import organization_create


class Command(BaseCommand):
    help = "Create an organization with its first owner (created if the email is new)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", default=None)
        parser.add_argument("--time-zone", default="Asia/Shanghai")
        parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args, **opts):
        try:
            org = organization_create(
                name=opts["name"],
                slug=opts["slug"],
                owner_email=opts["owner_email"],
                owner_password=opts["owner_password"],
                time_zone=opts["time_zone"],
                default_language=opts["language"],
                label=_("command line"),
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Created organization {org.slug} ({org.name}).")
