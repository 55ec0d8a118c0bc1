import contextlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors import lease
from connectors.telegram import polling


class Command(BaseCommand):
    help = (
        "Long-poll Telegram for every organization whose Telegram connection is in polling "
        "mode, and carry out their pending Telegram actions. Run it as its own process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument(
            "--configured",
            action="store_true",
            help="Exit 0 when some organization's Telegram connection is on, else 1 (make run "
            "starts the poller only then).",
        )

    def handle(self, *args, once=False, configured=False, **options):
        if configured:
            raise SystemExit(0 if polling.connected_orgs() else 1)
        if once:
            holder = lease.holder_name()
            if not lease.hold(polling.POLLER_LEASE, holder, settings.TELEGRAM_POLLER_LEASE_SECONDS):
                running = lease.holder_of(polling.POLLER_LEASE)
                raise CommandError(
                    f"Another poller is running ({running.holder if running else '?'}); "
                    "one pass would fight it for Telegram's updates."
                )
            try:
                totals = polling.run_once()
            finally:
                lease.release(polling.POLLER_LEASE, holder)
            self.stdout.write(" ".join(f"{k}={v}" for k, v in totals.items()))
            return
        self.stdout.write(
            "Polling Telegram (Ctrl-C stops). A second poller started meanwhile stands by."
        )
        with contextlib.suppress(KeyboardInterrupt):
            polling.run_forever()
