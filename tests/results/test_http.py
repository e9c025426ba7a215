"""The public verification page and API over real HTTP: a valid result, a tampered one, a revoked certificate, a
file signed under an untrusted CA, a file that is not a PDF, an unknown code, the rate limit, the OpenAPI document,
the demo CA's certificate and CRL."""
import pytest
import requests

from egov.dossiers import result_rules
from tests.results.conftest import issue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def result(live_server, officers, version):
    dossier, attachment, content = issue(officers, version)
    return live_server.url, result_rules.display(attachment.issued_result.code), content


def tampered(content: bytes) -> bytes:
    changed = bytearray(content)
    changed[len(changed) // 3] ^= 0x01
    return bytes(changed)


def page_post(base, content, name="result.pdf"):
    session = requests.Session()
    session.get(f"{base}/verify/", timeout=30)
    token = session.cookies["csrftoken"]
    return session.post(f"{base}/verify/", files={"file": (name, content, "application/pdf")},
                        data={"csrfmiddlewaretoken": token}, headers={"Referer": f"{base}/verify/"}, timeout=30)


def test_the_page_verifies_a_result_by_its_code(result, agency):
    base, code, _ = result
    answer = requests.get(f"{base}/verify/", params={"code": code.lower()}, cookies={"django_language": "en"},
                          timeout=30)
    assert answer.status_code == 200
    assert 'data-valid="true"' in answer.text and code in answer.text and agency.name in answer.text
    assert "036072004321" not in answer.text and "Đỗ Văn Hùng" not in answer.text  # nothing about the applicant


def test_the_page_verifies_an_uploaded_result_and_rejects_a_tampered_copy(result):
    base, code, content = result
    valid = page_post(base, content)
    assert valid.status_code == 200 and 'data-valid="true"' in valid.text
    invalid = page_post(base, tampered(content))
    assert invalid.status_code == 200 and 'data-valid="false"' in invalid.text


def test_the_page_and_the_api_show_a_revoked_certificate_as_revoked(result, agency):
    from egov.kernel import pki

    base, code, content = result
    pki.revoke(agency.code, reason="key lost")
    for answer in (requests.get(f"{base}/verify/", params={"code": code}, cookies={"django_language": "en"},
                                timeout=30), page_post(base, content)):
        assert answer.status_code == 200 and 'data-valid="false"' in answer.text
        assert "The signing certificate has been revoked." in answer.text
        revocation = answer.text.split('id="revocation">', 1)[1].split("</dd>", 1)[0]
        assert revocation.startswith("Revoked on ")
    body = requests.get(f"{base}/api/v1/results/{code}", timeout=30).json()
    assert body["valid"] is False and body["revoked"] is True and body["revoked_at"] and "revoked" in body["reasons"]


def test_the_page_and_the_api_reject_a_pdf_signed_under_a_ca_the_platform_does_not_trust(result, self_made_ca):
    from egov.kernel import pades
    from tests.results.conftest import real_pdf

    base, code, _ = result
    forged = pades.sign(real_pdf("Forged"), self_made_ca.credential(), result_code=code)  # a real code, another CA
    page = page_post(base, forged)
    assert page.status_code == 200 and 'data-valid="false"' in page.text
    assert "Not from a trusted certification authority" in page.text
    body = requests.post(f"{base}/api/v1/results/verify", files={"file": ("r.pdf", forged, "application/pdf")},
                         timeout=30).json()
    assert body["valid"] is False and body["trusted"] is False and "untrusted" in body["reasons"]


def test_the_page_says_a_file_is_not_a_pdf_and_an_unknown_code_is_unknown(live_server):
    answer = page_post(live_server.url, b"\x89PNG\r\n\x1a\n not a pdf", name="result.pdf")
    assert answer.status_code == 400 and 'id="error-summary-title"' in answer.text
    unknown = requests.get(f"{live_server.url}/verify/", params={"code": result_rules.new_code()}, timeout=30)
    assert unknown.status_code == 404
    malformed = requests.get(f"{live_server.url}/verify/", params={"code": "12"}, timeout=30)
    assert malformed.status_code == 400


def test_the_api_verifies_a_file(result, agency):
    base, code, content = result
    answer = requests.post(f"{base}/api/v1/results/verify", files={"file": ("r.pdf", content, "application/pdf")},
                           timeout=30)
    body = answer.json()
    assert answer.status_code == 200 and body["valid"] is True and body["reasons"] == []
    assert body["result_code"] == code and body["signer_org_code"] == agency.code and body["issued"] is True
    bad = requests.post(f"{base}/api/v1/results/verify",
                        files={"file": ("r.pdf", tampered(content), "application/pdf")}, timeout=30).json()
    assert bad["valid"] is False and bad["reasons"]


def test_the_api_refuses_a_non_pdf_with_a_problem(live_server):
    answer = requests.post(f"{live_server.url}/api/v1/results/verify",
                           files={"file": ("r.pdf", b"hello", "application/pdf")}, timeout=30)
    assert answer.status_code == 422 and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "body.file"
    missing = requests.post(f"{live_server.url}/api/v1/results/verify", timeout=30)
    assert missing.status_code == 422


def test_the_api_answers_a_body_without_multipart_boundary_with_a_documented_400_logged_in_one_line(live_server,
                                                                                                     caplog):
    """A client's mistake: a problem that says what to send, listed in the OpenAPI document, and one line in the
    server's log (no traceback, as if the server had failed)."""
    from tests.api.contract import assert_documented

    with caplog.at_level("WARNING", logger="django.request"):
        answer = requests.post(f"{live_server.url}/api/v1/results/verify", data=b"--x\r\n",
                               headers={"Content-Type": "multipart/form-data"}, timeout=30)
    assert answer.status_code == 400 and answer.headers["Content-Type"] == "application/problem+json"
    document = requests.get(f"{live_server.url}/api/openapi.json", timeout=30).json()
    body = assert_documented(document, "post", "/api/v1/results/verify", answer)
    assert body["title"] == "Bad request" and "boundary" in body["detail"]
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1 and records[0].exc_info is None
    assert records[0].getMessage() == ("Bad request (unreadable multipart body: Invalid boundary in multipart: "
                                       "None): /api/v1/results/verify")


def test_the_api_documents_its_errors_as_problems(live_server):
    from tests.api.contract import assert_documented

    document = requests.get(f"{live_server.url}/api/openapi.json", timeout=30).json()
    for answer in (requests.post(f"{live_server.url}/api/v1/results/verify",
                                 files={"file": ("r.pdf", b"hello", "application/pdf")}, timeout=30),
                   requests.get(f"{live_server.url}/api/v1/results/nope", timeout=30)):
        assert answer.status_code == 422
        assert_documented(document, answer.request.method, "/api/v1/results/verify" if answer.request.method == "POST"
                          else "/api/v1/results/{code}", answer)


def test_the_api_verifies_a_code_and_answers_404_for_an_unknown_one(result):
    base, code, _ = result
    body = requests.get(f"{base}/api/v1/results/{code}", timeout=30).json()
    assert body["valid"] is True and body["procedure_code"] == "2.000488"
    assert requests.get(f"{base}/api/v1/results/{result_rules.new_code()}", timeout=30).status_code == 404
    assert requests.get(f"{base}/api/v1/results/nope", timeout=30).status_code == 422


def test_verifications_are_rate_limited_per_client_address(result, settings):
    base, code, _ = result
    settings.RESULT_VERIFY_PER_MINUTE = 2
    statuses = [requests.get(f"{base}/api/v1/results/{code}", timeout=30).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    page = requests.get(f"{base}/verify/", params={"code": code}, timeout=30)
    assert page.status_code == 429 and page.headers["Retry-After"]


def test_the_api_is_in_the_openapi_document(live_server):
    paths = requests.get(f"{live_server.url}/api/openapi.json", timeout=30).json()["paths"]
    assert "/api/v1/results/verify" in paths and "/api/v1/results/{code}" in paths


def test_the_demo_ca_certificate_and_crl_are_published(live_server):
    from cryptography import x509

    from egov.kernel import pki

    certificate = requests.get(f"{live_server.url}/verify/ca.crt", timeout=30)
    assert certificate.headers["Content-Type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(certificate.content) == pki.demo_ca().certificate
    crl = requests.get(f"{live_server.url}/verify/ca.crl", timeout=30)
    assert x509.load_der_x509_crl(crl.content).issuer == pki.demo_ca().certificate.subject
