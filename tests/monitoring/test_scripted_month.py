"""A scripted month: dossiers moved through the one-stop services at chosen instants in February and March 2026,
and every figure of DOMAIN.md's "Statistics" checked against values counted by hand (written below, one dossier per
line). Re-running the consumer changes nothing; ``rebuild`` gives the same figures.

The procedure takes five working days; Tết closes 14–22 February 2026. Agency A = 000.00.12.H29; agency O =
000.00.12.H41.

February (A): F1 in person, received 2 Feb, still open at the end of February (due 9 Feb: overdue), processed late
10 Mar. F2 online, received 25 Feb (due 4 Mar), processed early 3 Mar, rated 4 on 4 Mar. F3 online, received 24 Feb,
processed early 26 Feb, delivered 2 Mar.

March (A):
  M1 in person, received 2 Mar, processed early 4 Mar, delivered 5 Mar.
  M2 online, received 2 Mar, processed exactly at its appointment (on time), delivered 10 Mar, rated 5 on 11 Mar.
  M3 by post, received 3 Mar (due 10 Mar), processed late 16 Mar.
  M4 online, received 4 Mar, two supplement requests, processed before its appointment: late (more than one
     supplement request), rated 2 on 11 Mar.
  M5 online, withdrawn 6 Mar before reception (withdrawn, never received).
  M6 online, received 5 Mar, withdrawn 10 Mar while being processed.
  M7 online, refused at reception 6 Mar.
  M8 in person, received 9 Mar (due 16 Mar), open at the end of March: overdue.
  M9 in person, received 30 Mar (due 6 Apr), open at the end of March: within the deadline.
  M10 in person, received 23 Mar, waiting for a supplement since 25 Mar (clock paused): within the deadline.
  M11 in person, received 10 Mar, processing stopped 12 Mar.
  M12 online, submitted 31 Mar, not received yet: counted nowhere.
March (O): O1 in person, received 2 Mar (due 9 Mar), open at the end of March: overdue.
"""
import pytest

from egov.dossiers import services as dossiers
from egov.kernel.ledger_models import ConsumerOffset
from egov.monitoring import queries, services
from egov.monitoring.models import COUNTERS, AgencyMonthlyFigures, DossierFact, MonthlyFigures
from tests.kernel.conftest import vn

MID_APRIL = vn("2026-04-15 12:00")


@pytest.fixture
def month(desk, officers, citizen, version, other_agency, foreign_desk):
    version.agencies.add(other_agency)
    d = desk
    f1 = d.walk_in("2026-02-02 08:00")
    d.transfer(f1, "2026-02-02 09:00")
    f2 = d.online("2026-02-25 08:00", "2026-02-25 09:00")
    d.transfer(f2, "2026-02-25 10:00")
    f3 = d.online("2026-02-23 08:00", "2026-02-24 08:00")
    d.transfer(f3, "2026-02-24 09:00")
    d.finish(f3, "2026-02-26 10:00")
    services.update()  # the consumer runs now and then, as in production: the figures are built step by step

    m1 = d.walk_in("2026-03-02 08:00")
    d.deliver(f3, "2026-03-02 08:30")
    d.transfer(m1, "2026-03-02 09:00")
    m2 = d.online("2026-03-02 08:30", "2026-03-02 09:00")
    d.transfer(m2, "2026-03-02 10:00")
    o1 = d.walk_in("2026-03-02 08:00", officer=foreign_desk)
    m3 = d.walk_in("2026-03-03 08:00", channel=3)
    d.transfer(m3, "2026-03-03 09:00")
    d.finish(f2, "2026-03-03 10:00")
    m4 = d.online("2026-03-04 07:45", "2026-03-04 08:00")
    d.transfer(m4, "2026-03-04 09:00")
    d.finish(m1, "2026-03-04 10:00")
    d.rate(f2, 4, "2026-03-04 11:00")
    dossiers.request_supplement(m4.pk, officer=officers["specialist"], missing=["Bản sao giấy khai sinh"],
                                at=vn("2026-03-05 08:00"))
    d.deliver(m1, "2026-03-05 09:00")
    m5 = d.submit("2026-03-05 10:00")
    m6 = d.online("2026-03-05 08:00", "2026-03-05 09:00")
    d.transfer(m6, "2026-03-05 10:00")
    dossiers.supply(m4.pk, user=citizen, files=[], note="Đã nộp bản sao", at=vn("2026-03-06 08:00"))
    dossiers.request_withdrawal(m5.pk, user=citizen, reason="Nộp nhầm", at=vn("2026-03-06 08:30"))
    dossiers.confirm_withdrawal(m5.pk, officer=officers["desk"], at=vn("2026-03-06 10:00"))
    m7 = d.submit("2026-03-06 08:00")
    dossiers.refuse(m7.pk, officer=officers["desk"], reasons=["Không thuộc thẩm quyền"], at=vn("2026-03-06 09:00"))
    services.update()

    m8 = d.walk_in("2026-03-09 08:00")
    d.transfer(m8, "2026-03-09 09:00")
    dossiers.request_supplement(m4.pk, officer=officers["specialist"], missing=["Ảnh 4x6"], at=vn("2026-03-09 10:00"))
    dossiers.supply(m4.pk, user=citizen, files=[], note="Đã nộp ảnh", at=vn("2026-03-09 14:00"))
    dossiers.request_withdrawal(m6.pk, user=citizen, reason="Không còn nhu cầu", at=vn("2026-03-09 15:00"))
    d.finish(m2, dossiers_appointment(m2))
    d.finish(f1, "2026-03-10 08:00")
    dossiers.confirm_withdrawal(m6.pk, officer=officers["desk"], at=vn("2026-03-10 09:00"))
    d.finish(m4, "2026-03-10 09:00")
    d.deliver(m2, "2026-03-10 10:00")
    m11 = d.walk_in("2026-03-10 08:00")
    d.transfer(m11, "2026-03-10 09:00")
    d.rate(m2, 5, "2026-03-11 08:00")
    d.rate(m4, 2, "2026-03-11 09:00")
    dossiers.stop(m11.pk, officer=officers["head"], reason="Hồ sơ giả mạo", at=vn("2026-03-12 09:00"))
    d.finish(m3, "2026-03-16 10:00")
    m10 = d.walk_in("2026-03-23 08:00")
    d.transfer(m10, "2026-03-23 09:00")
    dossiers.request_supplement(m10.pk, officer=officers["specialist"], missing=["Tờ khai"], at=vn("2026-03-25 09:00"))
    m9 = d.walk_in("2026-03-30 08:00")
    d.submit("2026-03-31 10:00")  # M12: not received
    services.update()
    return locals()


def dossiers_appointment(dossier):
    dossier.refresh_from_db()
    return dossier.appointment_at


def figures(**filters):
    return queries.figures(queries.make_filter(**filters), now=MID_APRIL).as_dict()


MARCH_A = {
    "received": {"total": 11, "new": 9, "carried_over": 2, "online": 3},       # new: M1 M2 M3 M4 M6 M8 M9 M10 M11
    "processed": {"total": 6, "early": 2, "on_time": 1, "late": 3},            # early F2 M1; on time M2; late F1 M3 M4
    "pending": {"total": 3, "within_deadline": 2, "overdue": 1, "as_of": "period end"},  # M9 M10 within; M8 overdue
    "delivered": 3,                                                            # F3 M1 M2
    "withdrawn": 2,                                                            # M5 (before reception) M6
    "stopped": 1,                                                              # M11
    "refused": 1,                                                              # M7
    "satisfaction": {"ratings": 3, "average": 3.67},                           # 4 + 5 + 2
    # No dossier reused a stored document (test_digitisation); the online M2 M4 M6 were filed as files, the walk-ins
    # on paper (no scan); every processed dossier's result was issued signed.
    "digitisation": {"reused": 0, "digitised": 3, "results_digitised": 6},
    "percentages": {
        "processed": 54.5, "pending": 27.3, "withdrawn": 18.2, "stopped": 9.1,  # of the 11 received
        "processed_early": 33.3, "processed_on_time": 16.7, "processed_late": 50.0, "processed_in_time": 50.0,
        "pending_within": 66.7, "pending_overdue": 33.3,
        "delivered": 50.0,                                                      # 3 of the 6 processed
        "online_share": 33.3,                                                   # 3 of the 9 new
        "reuse_share": 0.0,
        "digitised_share": 33.3,                                                # 3 of the 9 new
        "results_digitised_share": 100.0,                                       # 6 of the 6 processed
    },
}


def test_every_figure_of_march_matches_the_hand_count(month):
    assert figures(year=2026, month=3, agency="000.00.12.H29") == MARCH_A


def test_february_leaves_two_dossiers_pending_one_of_them_overdue(month):
    february = figures(year=2026, month=2, agency="000.00.12.H29")
    assert february["received"] == {"total": 3, "new": 3, "carried_over": 0, "online": 2}    # F1 F2 F3
    assert february["processed"] == {"total": 1, "early": 1, "on_time": 0, "late": 0}        # F3
    assert february["pending"] == {"total": 2, "within_deadline": 1, "overdue": 1, "as_of": "period end"}  # F2; F1
    assert (february["delivered"], february["withdrawn"], february["refused"]) == (0, 0, 0)
    assert february["percentages"]["online_share"] == 66.7


def test_online_channel_of_march(month):
    online = figures(year=2026, month=3, agency="000.00.12.H29", channel=2)
    assert online["received"] == {"total": 4, "new": 3, "carried_over": 1, "online": 3}     # M2 M4 M6; F2
    assert online["processed"] == {"total": 3, "early": 1, "on_time": 1, "late": 1}         # F2; M2; M4
    assert online["pending"]["total"] == 0
    assert (online["delivered"], online["withdrawn"], online["refused"], online["stopped"]) == (2, 2, 1, 0)
    assert online["satisfaction"] == {"ratings": 3, "average": 3.67}
    assert online["percentages"]["online_share"] == 100.0
    by_post = figures(year=2026, month=3, agency="000.00.12.H29", channel=3)
    assert by_post["received"]["new"] == 1 and by_post["processed"]["late"] == 1               # M3
    assert by_post["percentages"]["online_share"] == 0.0


def test_the_year_is_the_sum_of_its_months_and_pending_stands_as_of_now(month):
    year = figures(year=2026, agency="000.00.12.H29")
    assert year["received"] == {"total": 12, "new": 12, "carried_over": 0, "online": 5}
    assert year["processed"] == {"total": 7, "early": 3, "on_time": 1, "late": 3}
    # On 15 April M9 (due 6 April) is overdue too; M10 still waits for its supplement with the clock paused.
    assert year["pending"] == {"total": 3, "within_deadline": 1, "overdue": 2, "as_of": "now"}
    assert (year["delivered"], year["withdrawn"], year["stopped"], year["refused"]) == (3, 2, 1, 1)
    assert year["satisfaction"] == {"ratings": 3, "average": 3.67}
    assert year["percentages"]["online_share"] == 41.7


def test_provinces_and_the_whole_platform(month):
    assert figures(year=2026, month=3, province="H29") == MARCH_A
    h41 = figures(year=2026, month=3, province="H41")
    assert h41["received"] == {"total": 1, "new": 1, "carried_over": 0, "online": 0}         # O1
    assert h41["pending"] == {"total": 1, "within_deadline": 0, "overdue": 1, "as_of": "period end"}
    everywhere = figures(year=2026, month=3)
    assert everywhere["received"]["new"] == 10 and everywhere["pending"]["overdue"] == 2        # + O1


def test_a_procedure_filter(month, version):
    assert figures(year=2026, month=3, agency="000.00.12.H29", procedure=version.procedure.code) == MARCH_A


def test_the_monthly_series_matches_the_single_months(month):
    series = dict(queries.monthly(queries.make_filter(year=2026, agency="000.00.12.H29"), now=MID_APRIL))
    assert [m.month for m in series] == [1, 2, 3, 4]
    assert series[dt_month(3)].as_dict() == MARCH_A
    assert series[dt_month(2)].as_dict() == figures(year=2026, month=2, agency="000.00.12.H29")
    assert series[dt_month(4)].as_dict() == figures(year=2026, month=4, agency="000.00.12.H29")
    april = series[dt_month(4)].as_dict()
    assert april["received"] == {"total": 3, "new": 0, "carried_over": 3, "online": 0}
    assert april["pending"] == {"total": 3, "within_deadline": 1, "overdue": 2, "as_of": "now"}


def dt_month(number):
    import datetime as dt

    return dt.date(2026, number, 1)


def _snapshot():
    counters = sorted(MonthlyFigures.objects.values_list(
        "agency_id", "procedure_id", "channel", "month", "received", "closed", "early", "on_time", "late",
        "withdrawn", "stopped", "refused", "delivered", "overdue_opened", "overdue_closed", "ratings", "rating_sum"))
    facts = sorted(DossierFact.objects.values_list("dossier_id", "outcome", "received_at", "finished_at",
                                                   "overdue_from", "is_open", "rating_score"))
    per_agency = sorted(AgencyMonthlyFigures.objects.values_list("agency_id", "month", "received_online", *COUNTERS))
    return counters, facts, per_agency


def test_the_per_agency_roll_up_is_the_detailed_one_summed(month):
    """The page of an agency or a province reads AgencyMonthlyFigures; a procedure or a channel, MonthlyFigures:
    both must say the same."""
    summed = {}
    for row in MonthlyFigures.objects.values("agency_id", "month", "channel", *COUNTERS):
        values = summed.setdefault((row["agency_id"], row["month"]), dict.fromkeys((*COUNTERS, "received_online"), 0))
        for name in COUNTERS:
            values[name] += row[name]
        if row["channel"] == 2:
            values["received_online"] += row["received"]
    kept = {(row.pop("agency_id"), row.pop("month")): row
            for row in AgencyMonthlyFigures.objects.values("agency_id", "month", "received_online", *COUNTERS)}
    assert kept == {key: values for key, values in summed.items() if any(values.values())}
    assert len(kept) >= 4  # two agencies, February and March at least


def test_running_the_consumer_again_changes_nothing(month):
    before = _snapshot()
    assert services.update() == 0
    # A replay (at least once: the offsets are lost and every event is handled a second time) changes nothing.
    ConsumerOffset.objects.filter(consumer=services.CONSUMER).delete()
    assert services.update() > 0
    assert _snapshot() == before
    assert figures(year=2026, month=3, agency="000.00.12.H29") == MARCH_A


def test_rebuild_gives_the_same_figures(month):
    before = _snapshot()
    services.rebuild()
    assert _snapshot() == before
    assert figures(year=2026, month=3, agency="000.00.12.H29") == MARCH_A
