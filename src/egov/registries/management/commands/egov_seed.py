"""`egov seed [--demo]`: load reference data (administrative units, working-day calendar) and optionally demo data.

Idempotent: a second run writes nothing and is fast (unit loading is skipped when the counts already match).
"""
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from egov.procedures.demo import load_demo_catalogue
from egov.registries import demo as demo_data
from egov.registries import demo_population
from egov.registries import services


class Command(BaseCommand):
    help = ("Load reference data (administrative units, working-day calendar); with --demo also demo agencies, "
            "the demo population, a demo client system and demo accounts.")

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true",
                            help="also load demo agencies, population, client system and accounts")
        parser.add_argument("--force-units", action="store_true",
                            help="reload administrative units even when the counts already match the package")

    def handle(self, *args, demo: bool = False, force_units: bool = False, **options):
        started = time.perf_counter()
        result = services.load_administrative_units(force=force_units)
        counts = result.counts
        self.stdout.write(
            f"Administrative units: {counts['current_provinces']} provinces and {counts['current_communes']} "
            f"communes (from 2025); legacy {counts['legacy_provinces']} provinces, {counts['legacy_districts']} "
            f"districts, {counts['legacy_communes']} communes; {counts['mappings']} old → new mappings "
            f"({'loaded' if result.loaded else 'already up to date'})."
        )

        try:
            from egov.kernel.calendar import seed_calendar
        except ImportError as exc:
            raise CommandError(
                f"the working-day calendar is not available (egov.kernel.calendar.seed_calendar: {exc}); "
                "administrative units were loaded") from None
        this_year = timezone.localdate().year
        years = range(this_year - 1, this_year + 3)
        calendar_result = seed_calendar(years)
        summary = f": {calendar_result}" if isinstance(calendar_result, (int, str)) else ""
        self.stdout.write(f"Working-day calendar: {years.start}–{years.stop - 1}{summary}.")

        if demo:
            created = self._demo_agencies()
            self.stdout.write(f"Demo agencies: {created} created, {len(demo_data.DEMO_AGENCIES) - created} "
                              "already present.")
            self.stdout.write(load_demo_catalogue())
            population_started = time.perf_counter()
            try:
                population = demo_population.load_demo_population()
                client, _ = demo_population.ensure_demo_client()
            except demo_population.UnitsMissing as exc:
                raise CommandError(str(exc)) from None
            registry = services.ensure_population_registry()
            counts = (f"{population.persons} persons in {population.households} households, {population.deceased} "
                      "deceased")
            self.stdout.write(
                "Demo population: " + (f"{counts} loaded in {time.perf_counter() - population_started:.1f} s"
                                        if population.loaded else f"already present (the registry holds {counts})")
                + f"; registry {registry.code} {registry.version}; demo person {demo_population.DEMO_CITIZEN_PIN} "
                "(Đỗ Thị Hà).")
            self.stdout.write(f"Demo client system {client.identifier}: API key {demo_population.DEMO_CLIENT_KEY} "
                              f"(grants {', '.join(sorted(demo_population.DEMO_CLIENT_GRANTS))}).")
            from egov.registries import demo_enterprises

            enterprises = demo_enterprises.load_demo_enterprises()
            self.stdout.write(f"Demo enterprises: {enterprises} created, "
                              f"{len(demo_enterprises.DEMO_ENTERPRISES) - enterprises} already present.")
            try:
                from egov.accounts.demo import load_demo_accounts
            except ImportError as exc:
                raise CommandError(f"demo accounts are not available (egov.accounts.demo.load_demo_accounts: {exc})"
                                   ) from None
            lines = load_demo_accounts()
            for line in lines or []:
                self.stdout.write(str(line))
            from egov.dossiers.demo import load_for_demo_officers
            self.stdout.write(load_for_demo_officers())
            from egov.monitoring.services import update_summary
            self.stdout.write(update_summary())  # the demo dossiers' figures on /statistics/ at once
            if demo_population.link_demo_citizen():
                self.stdout.write(f"{demo_population.DEMO_CITIZEN_USERNAME} is linked to the demo person "
                                  f"{demo_population.DEMO_CITIZEN_PIN}.")
            from egov.accounts import demo_client

            if demo_client.ensure_demo_sign_in_application() is not None:
                self.stdout.write(f"Demo single sign-on client {demo_client.DEMO_SSO_IDENTIFIER}: client id "
                                  f"{demo_client.DEMO_CLIENT_ID}, secret {demo_client.DEMO_CLIENT_SECRET}; run "
                                  "`egov demo-client` and open http://127.0.0.1:8001/.")
        self.stdout.write(f"Seed done in {time.perf_counter() - started:.1f} s.")

    def _demo_agencies(self) -> int:
        try:
            return demo_data.load_demo_agencies()
        except demo_data.UnitsMissing as exc:
            raise CommandError(str(exc)) from None
