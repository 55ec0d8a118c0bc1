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

    def handle(self, *args, once=False, **options):
        if once:
            totals = polling.run_once()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in totals.items()))
            return
        self.stdout.write("Polling Telegram (Ctrl-C stops).")
        with contextlib.suppress(KeyboardInterrupt):
            polling.run_forever()
