import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from connectors.telegram import services
from integrations.telegram_webapp import bot_token, telegram_token_set
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.scope import org_scope


class Command(BaseCommand):
    help = (
        "Connect an organization's Telegram bot from the command line (what the dashboard's "
        "Telegram connection page does): the token from --token or TELEGRAM_BOT_TOKEN is "
        "stored encrypted when given, then checked with Telegram and the mode set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--token", default="", help="Default: $TELEGRAM_BOT_TOKEN.")
        parser.add_argument("--mode", default="polling", choices=["polling", "webhook", "off"])

    def handle(self, *args, org, token, mode, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r}")
        token = token or os.environ.get("TELEGRAM_BOT_TOKEN", "")
        actor = Actor.system(organization, "manage.py telegram_connect")
        with org_scope(organization):
            try:
                if token and token != bot_token(organization):
                    telegram_token_set(actor=actor, token=token)
                conn = services.telegram_connect(actor=actor, mode=mode)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        if conn is None:
            self.stdout.write("off")
            return
        self.stdout.write(f"@{conn.bot_username}: {conn.mode}")
