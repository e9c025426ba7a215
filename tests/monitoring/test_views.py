"""The public statistics page, its CSV export and the JSON API: no sign-in, the figures of the roll-ups, bad
filters named (never a 500)."""
import csv
import io

import pytest

from egov.monitoring import services


@pytest.fixture
def figures_2026(desk):
    """March 2026 at 000.00.12.H29: one dossier processed early and delivered, one online and pending."""
    early = desk.walk_in("2026-03-02 08:00")
    desk.transfer(early, "2026-03-02 09:00")
    desk.finish(early, "2026-03-04 10:00")
    desk.deliver(early, "2026-03-05 09:00")
    desk.online("2026-03-03 08:00", "2026-03-03 09:00")
    services.update()


def test_the_page_shows_the_figures_and_the_charts_without_signing_in(client, figures_2026):
    response = client.get("/statistics/?year=2026&agency=000.00.12.H29")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Service statistics" in page and "Dossiers by stage, with percentages" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert '<title id="chart-processed-title">Processed dossiers per month, 2026</title>' in page
    assert "50.0%" in page  # online share of March: 1 of 2
    assert "Sở Tư pháp Thành phố Hồ Chí Minh" in page  # the agency filter offers the agencies with figures


def test_the_province_filter_names_each_province_by_its_place(client, figures_2026):
    from egov.registries.models import AdministrativeUnit, Agency

    unit = AdministrativeUnit.objects.create(generation=AdministrativeUnit.Generation.CURRENT, level="province",
                                             code="79", name="Thành phố Hồ Chí Minh")
    Agency.objects.update_or_create(code="000.00.00.H29", defaults={
        "name": "Ủy ban nhân dân Thành phố Hồ Chí Minh", "administrative_unit": unit})
    page = client.get("/statistics/?year=2026").content.decode()
    assert '<option value="H29">Thành phố Hồ Chí Minh</option>' in page


def test_a_month_shows_its_table_without_charts(client, figures_2026):
    page = client.get("/statistics/?year=2026&month=3").content.decode()
    assert "Figures for 3/2026" in page and "<svg" not in page


def test_bad_filters_are_named_and_left_out(client, figures_2026):
    response = client.get("/statistics/?year=abc&month=13&agency=000.00.99.H99&channel=7&province=X")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a whole number." in page and "Enter a number from 1 to 12." in page
    assert "No agency has the code 000.00.99.H99." in page


def test_the_csv_opens_in_a_spreadsheet(client, figures_2026):
    response = client.get("/statistics/export.csv?year=2026&agency=000.00.12.H29")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="thong-ke-2026.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Kỳ", "Tổng số tiếp nhận", "Mới tiếp nhận", "Từ kỳ trước chuyển qua"]
    march = next(row for row in rows if row[0] == "03/2026")
    header = rows[0]
    assert march[header.index("Mới tiếp nhận")] == "2"
    assert march[header.index("Trước hạn")] == "1"
    assert march[header.index("Tỷ lệ trực tuyến (%)")] == "50"
    assert rows[-1][0] == "Năm 2026"
    assert client.get("/statistics/export.csv?month=0").status_code == 400


def test_the_api_answers_with_the_same_figures(client, figures_2026):
    response = client.get("/api/v1/statistics?year=2026&month=3&agency=000.00.12.H29")
    assert response.status_code == 200
    body = response.json()
    assert body["received"] == {"total": 2, "new": 2, "carried_over": 0, "online": 1}
    assert body["processed"] == {"total": 1, "early": 1, "on_time": 0, "late": 0}
    assert body["pending"]["total"] == 1 and body["delivered"] == 1
    assert body["percentages"]["online_share"] == 50.0
    assert body["agency"] == "000.00.12.H29" and body["month"] == 3


def test_the_api_names_a_bad_filter_in_problem_json(client, db):
    response = client.get("/api/v1/statistics?agency=000.00.99.H99")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "query.agency"
    assert client.get("/api/v1/statistics?month=13").status_code == 422
    assert client.get("/api/v1/statistics?channel=4").status_code == 422


def test_the_api_filters_by_the_channel_given_in_the_query_string(client, figures_2026):
    """A query string carries text: channel=2 is the online channel (it was once refused: "Input should be 1, 2 or
    3"); anything but 1, 2 or 3 is a 422 naming query.channel."""
    url = "/api/v1/statistics?year=2026&month=3&agency=000.00.12.H29&channel="
    received = {}
    for channel in ("1", "2", "3"):
        response = client.get(url + channel)
        assert response.status_code == 200, response.content
        assert response.json()["channel"] == int(channel)
        received[channel] = response.json()["received"]
    assert (received["1"]["new"], received["2"]["new"], received["3"]["new"]) == (1, 1, 0)
    assert received["2"]["online"] == 1 and received["1"]["online"] == 0
    for bad in ("0", "4", "two", "1.0", "", "9" * 5000):
        response = client.get(url + bad)
        assert response.status_code == 422, bad
        assert [error["field"] for error in response.json()["errors"]] == ["query.channel"]


def test_the_api_is_in_the_openapi_document(client, db):
    schema = client.get("/api/openapi.json").json()
    assert "get" in schema["paths"]["/api/v1/statistics"]
    [channel] = [p for p in schema["paths"]["/api/v1/statistics"]["get"]["parameters"] if p["name"] == "channel"]
    assert {"enum": [1, 2, 3], "type": "integer"} in channel["schema"]["anyOf"]


def test_the_api_answers_the_schema_the_document_gives_it(client, figures_2026):
    """Its own schema, not the Registration API's statistics (both were once named StatisticsOut: one took the
    other's place in the document)."""
    from tests.api.contract import assert_documented, openapi

    document = openapi(client)
    for query in ("year=2026&month=3", "year=2026&channel=2", "month=13"):
        assert_documented(document, "get", "/api/v1/statistics", client.get(f"/api/v1/statistics?{query}"))


def test_the_menu_links_to_the_statistics(client, db):
    assert 'href="/statistics/"' in client.get("/").content.decode()


def test_the_rebuild_command(figures_2026, capsys):
    from django.core.management import call_command

    call_command("egov_statistics", "rebuild")
    assert "Statistics rebuilt from" in capsys.readouterr().out
    call_command("egov_statistics", "update")
    assert "Statistics: 0 new ledger events read." in capsys.readouterr().out


def test_an_empty_installation_shows_zeros(client, db):
    response = client.get("/statistics/")
    assert response.status_code == 200
    assert client.get("/api/v1/statistics").json()["received"]["total"] == 0



def test_egov_notify_runs_the_statistics_consumer_too(desk):
    from django.core.management import call_command

    from egov.monitoring.models import DossierFact

    desk.walk_in("2026-03-02 08:00")
    call_command("egov_notify", once=True)
    assert DossierFact.objects.filter(is_open=True).count() == 1


def test_the_egov_command_knows_statistics():
    from egov.cli import build_parser

    assert build_parser().parse_args(["statistics", "rebuild"]).statistics_command == "rebuild"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["statistics", "recount"])


def test_the_page_is_kept_for_the_configured_time_per_filter_and_language(client, figures_2026, desk, settings):
    """Public and the same for everyone: the figures are rendered once per filter and language and kept
    EGOV_STATISTICS_CACHE_SECONDS; a change in the roll-ups shows when the kept page expires."""
    from django.core.cache import cache

    settings.STATISTICS_CACHE_SECONDS = 60
    url = "/statistics/?year=2026&month=3&agency=000.00.12.H29"

    def received(page: str) -> str:
        return page.split("Dossiers received</th><td class=\"number\">", 1)[1].split("<", 1)[0]

    assert received(client.get(url).content.decode()) == "2"
    desk.walk_in("2026-03-10 08:00")
    services.update()
    assert received(client.get(url).content.decode()) == "2"  # kept
    assert received(client.get(url.replace("month=3", "month=03")).content.decode()) == "2"  # the same filter
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    assert "Số liệu tháng 3/2026" in client.get(url).content.decode()  # kept per language too
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    cache.clear()  # as when the kept page expires
    assert received(client.get(url).content.decode()) == "3"
    settings.STATISTICS_CACHE_SECONDS = 0  # not kept at all
    desk.walk_in("2026-03-11 08:00")
    services.update()
    assert received(client.get(url).content.decode()) == "4"
