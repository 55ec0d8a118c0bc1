"""`manage.py rebuild_rollups --org S`: recompute every rollup of an organization from its raw
events, orders and membership history."""

import time

from django.core.management.base import BaseCommand, CommandError

from metrics import rollups
from tenancy.models import Organization
from tenancy.scope import org_scope


class Command(BaseCommand):
    help = "Rebuild the metric rollups of an organization (or all) from the raw records."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--org", help="the organization's slug")
        target.add_argument("--all", action="store_true", help="every organization")

    def handle(self, *args, **options):
        if options["all"]:
            orgs = list(Organization.objects.order_by("pk"))
        else:
            orgs = list(Organization.objects.filter(slug=options["org"]))
            if not orgs:
                raise CommandError(f"No organization with the slug {options['org']!r}.")
        for org in orgs:
            started = time.perf_counter()
            with org_scope(org):
                days = rollups.rebuild(org)
            self.stdout.write(
                f"{org.slug}: {days} group-days rebuilt in {time.perf_counter() - started:.1f}s"
            )
