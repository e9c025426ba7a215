"""A dossier is filed under the version of its procedure in force on the day: not a version a newer one has replaced
(whatever the channel), and online only if that version is offered online."""
import datetime as dt

import pytest

from egov.dossiers import services
from egov.dossiers.models import Dossier
from egov.procedures.models import OnlineLevel, ProcedureVersion
from tests.dossiers.conftest import APPLICANT, pdf_file, vn


def next_version(old, effective_from, **changes):
    fields = {f.name: getattr(old, f.name) for f in ProcedureVersion._meta.concrete_fields
              if f.name not in ("id", "created_at")}
    version = ProcedureVersion.objects.create(**{**fields, "version": old.version + 1,
                                                 "effective_from": effective_from, **changes})
    version.agencies.set(old.agencies.all())
    return version


def submit(citizen, version, agency, at):
    return services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                  form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())], at=vn(at))


def test_an_online_dossier_is_not_filed_under_a_replaced_version(citizen, version, agency):
    next_version(version, dt.date(2026, 3, 1))
    with pytest.raises(services.InvalidInput) as refused:
        submit(citizen, version, agency, "2026-03-02 09:00")
    assert refused.value.message_dict["procedure"] == [
        "A newer version of this procedure is in force: the dossier must be filed under it."]
    assert not Dossier.objects.exists()


def test_the_replaced_version_still_serves_until_the_new_one_comes_into_force(citizen, version, agency):
    newer = next_version(version, dt.date(2026, 3, 1))
    assert submit(citizen, version, agency, "2026-02-27 09:00").procedure_version == version
    assert submit(citizen, newer, agency, "2026-03-02 09:00").procedure_version == newer


def test_the_desk_does_not_file_under_a_replaced_version_either(officers, version):
    next_version(version, dt.date(2026, 3, 1))
    with pytest.raises(services.InvalidInput) as refused:
        services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1, applicant=APPLICANT,
                                subject=None, form_data={"purpose": "xin việc"}, files=[], at=vn("2026-03-02 09:00"))
    assert "A newer version of this procedure is in force" in refused.value.message_dict["procedure"][0]


def test_a_version_not_offered_online_takes_no_online_dossier(citizen, version, agency):
    ProcedureVersion.objects.filter(pk=version.pk).update(online_level=OnlineLevel.NONE)
    version.refresh_from_db()
    with pytest.raises(services.InvalidInput) as refused:
        submit(citizen, version, agency, "2026-03-02 09:00")
    assert refused.value.message_dict["procedure"] == [
        "This procedure cannot be applied for online; go to the agency's desk."]
