# ruff: noqa: F811  (fixtures imported from tests/dossiers are parameters of the fixtures below)
"""Statistics fixtures: the dossier fixtures of tests/dossiers (an agency of H29 with officers of every role, a
five-working-day procedure, the 2026 calendar, a citizen), another agency in H41, and helpers that move dossiers
through the real one-stop services at chosen instants."""
import pytest

from egov.dossiers import services
from tests.dossiers.conftest import (  # noqa: F401  (fixtures re-exported for the statistics tests)
    APPLICANT, agency, calendar_2026, citizen, english, foreign_desk, officers, other_agency, pdf_file, version,
)
from tests.kernel.conftest import vn


class Desk:
    """Moves dossiers of one agency through ``dossiers.services`` at the instants the test names."""

    def __init__(self, officers, citizen, version, agency):
        self.officers, self.citizen, self.version, self.agency = officers, citizen, version, agency

    def walk_in(self, at, channel=1, officer=None):
        return services.intake_at_desk(officer=officer or self.officers["desk"], procedure_version=self.version,
                                       channel=channel, applicant=APPLICANT, subject=None,
                                       form_data={"purpose": "xin việc"}, files=[], at=vn(at))

    def submit(self, at):
        return services.submit_online(applicant_user=self.citizen, procedure_version=self.version,
                                      agency=self.agency, form_data={"purpose": "du học"},
                                      files=[("to_khai", pdf_file())], at=vn(at))

    def online(self, submitted, received):
        dossier = self.submit(submitted)
        return services.receive(dossier.pk, officer=self.officers["desk"], at=vn(received))

    def transfer(self, dossier, at):
        return services.transfer(dossier.pk, officer=self.officers["desk"], at=vn(at))

    def finish(self, dossier, at):
        """Draft the result, complete the three steps at ``at`` (a datetime or text), the last one approving and
        signing the result: result ready (4 → 9)."""
        at = vn(at) if isinstance(at, str) else at
        services.attach_result(dossier.pk, officer=self.officers["specialist"], file=None, at=at)
        services.complete_step(dossier.pk, officer=self.officers["specialist"], task_id="process", at=at)
        services.complete_step(dossier.pk, officer=self.officers["head"], task_id="review", at=at)
        return services.approve_and_sign(dossier.pk, officer=self.officers["leader"], task_id="approve", at=at)

    def deliver(self, dossier, at):
        return services.deliver(dossier.pk, officer=self.officers["desk"], method="desk", at=vn(at))

    def rate(self, dossier, score, at):
        return services.rate(dossier.pk, user=self.citizen, score=score, at=vn(at))


@pytest.fixture
def desk(officers, citizen, version, agency):
    return Desk(officers, citizen, version, agency)


@pytest.fixture(autouse=True)
def fresh_choices():
    """The filters' choices are kept a few minutes per process: each test starts without them."""
    from egov.monitoring import queries

    queries._choices = None
    yield
    queries._choices = None
