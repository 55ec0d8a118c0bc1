import contextlib

from django.core.management.base import BaseCommand

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
            totals = polling.run_once()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in totals.items()))
            return
        self.stdout.write("Polling Telegram (Ctrl-C stops).")
        with contextlib.suppress(KeyboardInterrupt):
            polling.run_forever()
