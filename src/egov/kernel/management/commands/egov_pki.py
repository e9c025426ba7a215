"""``egov pki status`` lists the certificates that sign results; ``egov pki revoke ORG_CODE`` revokes one.

Fingerprints are printed as ``openssl x509 -noout -fingerprint -sha256`` prints them (SHA-256, ``AB:CD:…``), so an
operator can compare them with the CA's letter or another tool without converting.
"""
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from egov.kernel import pki


class Command(BaseCommand):
    help = "Certificates that sign results: status, revoke ORG_CODE"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "revoke"])
        parser.add_argument("org_code", nargs="?", default="")
        parser.add_argument("--reason", default="", help="why the certificate is revoked (kept with it)")

    def handle(self, *args, action, org_code, reason, **options):
        try:
            if action == "status":
                self._status()
            else:
                if not org_code:
                    raise CommandError("name the agency: egov pki revoke ORG_CODE")
                if not pki.ORG_CODE.match(org_code):
                    raise CommandError(f"{org_code!r} is not an organisation code (e.g. 000.00.12.H29)")
                row = pki.revoke(org_code, reason=reason or "revoked with egov pki revoke", actor="egov pki")
                self.stdout.write(f"revoked {row.subject} serial {row.serial_number} at {row.revoked_at:%Y-%m-%d %H:%M}"
                                  f" (SHA-256 {pki.openssl_form(row.fingerprint)})")
        except (ImproperlyConfigured, pki.SigningUnavailable) as exc:
            raise CommandError(str(exc)) from None

    def _status(self):
        if pki.is_production():
            self.stdout.write("demo CA: refused (production)")
        else:
            ca = pki.demo_ca().certificate
            self.stdout.write(f"demo CA: {ca.subject.rfc4514_string()} (SHA-256 {pki.sha256_fingerprint(ca)}; "
                              f"{pki.pki_dir()})")
        for ca in pki.trusted_cas():
            self.stdout.write(f"trusted CA: {ca.subject.rfc4514_string()} (SHA-256 {pki.sha256_fingerprint(ca)})")
        rows = pki.status()
        if not rows:
            self.stdout.write("no agency certificate yet (a demo certificate is made when an agency first signs)")
        for row in rows:
            until = f"until {row['not_after']:%Y-%m-%d}" if row["not_after"] else ""
            state = "REVOKED" if row["revoked"] else "ok"
            # The fingerprint goes last, after the subject, so the columns before it read as they always did.
            sha256 = f"\tSHA-256 {row['sha256']}" if row["sha256"] else ""
            self.stdout.write(f"{row['org_code']}\t{row['source']}\t{state}\t{until}\t{row['subject']}{sha256}")
