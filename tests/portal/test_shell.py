"""The web shell served through Django's test client: layout, language, error pages, probes, metrics, API errors."""
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

pytestmark = pytest.mark.django_db


def vi(text: str) -> str:
    with translation.override("vi"):
        return gettext(text)


def test_home_page_is_vietnamese_without_a_language_preference(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert vi("Public services, online and in one place") in html


def test_home_page_layout_has_skip_link_first_and_landmarks(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    body = html.split("<body>", 1)[1]
    first_focusable = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body).group(0)
    assert 'class="skip-link"' in first_focusable and 'href="#main"' in first_focusable
    for landmark in ("<header", "<nav", '<main id="main"', "<footer", 'role="status"'):
        assert landmark in html
    assert "/static/portal/egov.css" in html
    assert "http://" not in html.split("</head>")[0] and "https://" not in html.split("</head>")[0]


def test_home_page_counts_registries(client):
    from egov.registries.models import AdministrativeUnit, Agency

    province = AdministrativeUnit.objects.create(generation="2025", level="province", code="01", name="Hà Nội")
    AdministrativeUnit.objects.create(generation="2025", level="commune", code="00004", name="Ba Đình",
                                      parent=province)
    Agency.objects.create(code="000.00.00.G22", name="Văn phòng Chính phủ")
    figures = client.get("/").context["figures"]
    assert figures == {"provinces": 1, "communes": 1, "agencies": 1}


def test_language_switch_is_a_form_post_to_set_language(client):
    html = client.get("/").content.decode()
    assert f'action="{reverse("set_language")}" method="post"' in html
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html and "Public services, online and in one place" in html
    assert 'value="vi" lang="vi">Tiếng Việt</button>' in html


def test_unknown_page_gets_the_translated_404_page(client):
    response = client.get("/khong-co/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="vi">' in html and vi("Page not found") in html


@pytest.mark.parametrize("view, status", [("bad_request", 400), ("permission_denied", 403),
                                          ("page_not_found", 404)])
def test_error_pages_render_in_the_layout(rf, view, status):
    from egov.portal import views

    request = rf.get("/somewhere")
    response = getattr(views, view)(request, exception=Exception("x"))
    assert response.status_code == status
    assert '<a class="skip-link"' in response.content.decode()


def test_server_error_page_renders_without_request_context(rf):
    from egov.portal import views

    response = views.server_error(rf.get("/boom"))
    assert response.status_code == 500
    assert vi("Server error") in response.content.decode()


def test_healthz_needs_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_readyz_reports_unapplied_migrations(client, monkeypatch):
    from egov.kernel import health

    # A migration recorded as not applied: delete its row, then put it back.
    monkeypatch.setattr(health, "_migrations_seen_applied", False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations WHERE app = 'portal' OR app = 'registries' "
                       "ORDER BY id DESC")
        app, name = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", [app, name])
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["reason"] == "migrations not applied" and f"{app}.{name}" in body["unapplied"]


def test_readyz_reports_an_unreachable_database(client, monkeypatch):
    from django.db import DatabaseError

    from egov.kernel import health

    class Broken:
        def __enter__(self):
            raise DatabaseError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", lambda: Broken())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "database unavailable"


def test_metrics_count_requests_per_route_and_status(client, with_metrics):
    client.get("/")
    client.get("/khong-co/")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert re.search(r'egov_http_requests_total\{method="GET",route="portal:home",status="200"\} [1-9]', text)
    assert re.search(r'egov_http_requests_total\{method="GET",route="<unmatched>",status="404"\} [1-9]', text)
    assert 'egov_http_request_duration_seconds_bucket{le="0.005",method="GET",route="portal:home"}' in text


def test_metrics_in_multiprocess_mode_sum_every_worker(tmp_path, monkeypatch):
    """With PROMETHEUS_MULTIPROC_DIR set, /metrics reads every worker's files (a second process writes here)."""
    import subprocess
    import sys

    code = (
        "from prometheus_client import Counter, CollectorRegistry\n"
        "c = Counter('egov_http_requests', 'x', ['route', 'method', 'status'], registry=CollectorRegistry())\n"
        "c.labels('portal:home', 'GET', '200').inc(7)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
                                                                 "PATH": "/usr/bin:/bin"})
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    from egov.kernel.metrics import exposition

    text = exposition().decode()
    assert 'egov_http_requests_total{method="GET",route="portal:home",status="200"} 7.0' in text


def test_api_docs_use_local_swagger_assets(client):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_openapi_schema_is_served(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "egov API"
    assert "/api/v1/health" in schema["paths"]


def test_api_health(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_api_unknown_path_is_problem_json(client):
    response = client.get("/api/v1/khong-co")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


@override_settings(DEBUG=False)
def test_bench_bare_view_is_absent_by_default(client):
    assert client.get("/bench/bare").status_code == 404
    assert client.post("/bench/submission-reference/upload/").status_code == 404


def test_swagger_assets_are_served_from_django_ninja_static_files():
    from django.conf import settings
    from django.contrib.staticfiles import finders

    assert "ninja" in settings.INSTALLED_APPS, (
        'add "ninja" to settings.INSTALLED_APPS: /api/docs loads Swagger UI from django-ninja\'s static files')
    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/swagger-ui.css")
