"""Print the current TOTP code of a demo officer, for someone trying the demo without an authenticator app."""
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.accounts import services
from egov.accounts.demo import DEMO_USERNAMES, refuse_in_production


class Command(BaseCommand):
    help = "Print the current 6-digit TOTP code of a demo account (refused in production and for other accounts)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            refuse_in_production("demo_totp")
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        if username not in DEMO_USERNAMES:
            raise CommandError(f"{username!r} is not a demo account; demo accounts: {', '.join(sorted(DEMO_USERNAMES))}")
        # Only a device still holding the published demo secret: a real secret is never printed.
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True,
                                           key=services.demo_totp_key(username)).first()
        if device is None:
            raise CommandError(f"{username!r} has no demo authenticator: run `egov seed --demo` first.")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
