"""The catalogue in the admin: procedures with their versions; a version that dossiers use is read-only."""
import pytest
from django.conf import settings

from egov.procedures import services
from egov.procedures.demo import DEMO_CATALOGUE
from egov.procedures.models import ProcedureVersion
from tests.procedures.test_import_rules import use


@pytest.fixture
def admin_client_en(client, django_user_model):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "correct-horse-battery-9")
    client.force_login(superuser)
    device = TOTPDevice.objects.create(user=superuser, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_procedures_and_versions_are_in_the_admin(demo_agencies, admin_client_en):
    services.import_catalogue(DEMO_CATALOGUE)
    page = admin_client_en.get("/admin/procedures/procedure/")
    assert page.status_code == 200 and "1.001193" in page.content.decode()
    birth = ProcedureVersion.objects.get(procedure__code="1.001193")
    page = admin_client_en.get(f"/admin/procedures/procedure/{birth.procedure_id}/change/")
    assert page.status_code == 200
    assert "Đăng ký khai sinh" in page.content.decode() and f"procedureversion/{birth.pk}/change/" in page.content.decode()


def test_a_version_used_by_a_dossier_is_read_only(demo_agencies, admin_client_en):
    services.import_catalogue(DEMO_CATALOGUE)
    free, used = ProcedureVersion.objects.filter(procedure__code="2.000815").order_by("version")
    use(used)
    editable = admin_client_en.get(f"/admin/procedures/procedureversion/{free.pk}/change/").content.decode()
    assert 'name="duration_days"' in editable
    frozen = admin_client_en.get(f"/admin/procedures/procedureversion/{used.pk}/change/").content.decode()
    assert 'name="duration_days"' not in frozen and "Đối chiếu bản sao với bản chính" in frozen
