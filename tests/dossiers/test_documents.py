"""The one-stop desk's documents (Circular 03/2025 forms 01–07): what a citizen or an inspector reads on them.

Pure functions, no database: each test makes a PDF and reads its text back with pypdf, as a search engine or a screen
reader would.
"""
import csv
import datetime as dt
import io
import unicodedata

import pytest
from pypdf import PdfReader

from egov.dossiers import documents
from egov.dossiers.documents import BookRow, DocumentError, DossierFacts, Issuer, Item, StepRow
from egov.kernel.calendar_rules import VN_TZ

ISSUER = Issuer(name="Ủy ban nhân dân Phường Sài Gòn", code="000.00.14.H29",
                parent_name="Ủy ban nhân dân Thành phố Hồ Chí Minh", place="TP. Hồ Chí Minh")
DOSSIER = DossierFacts(
    code="000.00.14.H29-260305-0001", procedure_code="1.000656", procedure_name="Đăng ký khai sinh",
    channel="Trực tiếp", applicant_name="Đỗ Văn Hùng", applicant_id_number="079099000123",
    applicant_address="12 Lê Lợi, Phường Sài Gòn, TP. Hồ Chí Minh", applicant_phone="0901234567",
    applicant_email="hung@example.vn", subject_name="Đỗ Minh Anh",
)
OFFICER = "Nguyễn Thị Lan"


def vn(text: str) -> dt.datetime:
    """A wall-clock time in Vietnam: vn("2026-03-05 08:30")."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


def pdf_pages(data: bytes) -> list[str]:
    """Each page's text, whitespace collapsed (wrapped lines and table cells join with one space)."""
    assert data.startswith(b"%PDF-")
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    return " ".join(pdf_pages(data))


def receipt(**changes) -> bytes:
    facts = dict(received_at=vn("2026-03-05 08:30"), appointment_at=vn("2026-03-10 16:00"),
                 components=[Item("Tờ khai đăng ký khai sinh", "bản chính"), Item("Giấy chứng sinh")],
                 fees=[("Lệ phí đăng ký khai sinh", 50_000), ("Phí cấp bản sao", 8_000)],
                 officer_name=OFFICER, return_method="Tại Bộ phận Một cửa")
    return documents.form_01_receipt(ISSUER, DOSSIER, **(facts | changes))


# --- Formatting ---------------------------------------------------------------------------------------------------------


def test_instants_are_shown_in_vietnam_time_in_words():
    assert documents.vn_instant(dt.datetime(2026, 3, 5, 1, 30, tzinfo=dt.UTC)) == "08 giờ 30 phút, ngày 05/03/2026"


def test_an_instant_late_in_the_utc_day_is_the_next_day_in_vietnam():
    assert documents.vn_instant(dt.datetime(2026, 3, 4, 17, 5, tzinfo=dt.UTC)) == "00 giờ 05 phút, ngày 05/03/2026"


def test_place_and_date_pad_days_below_ten_and_months_one_and_two_only():
    # Decree 30/2020/ND-CP, Appendix I: a leading zero where a digit could be added in front of it after signing.
    assert documents.vn_place_date("TP. Hồ Chí Minh", dt.date(2026, 3, 5)) == "TP. Hồ Chí Minh, ngày 05 tháng 3 năm 2026"
    assert documents.vn_place_date("Hà Nội", dt.date(2026, 2, 12)) == "Hà Nội, ngày 12 tháng 02 năm 2026"
    assert documents.vn_place_date("", dt.date(2026, 11, 20)) == "Ngày 20 tháng 11 năm 2026"


def test_amounts_in_dong_with_dots_between_thousands():
    assert documents.vnd(50_000) == "50.000 đồng"
    assert documents.vnd(1_250_000) == "1.250.000 đồng"
    assert documents.vnd(0) == "0 đồng"


@pytest.mark.parametrize("amount", [-1, 1.5, "50000", True])
def test_amounts_that_are_not_whole_non_negative_dong_are_refused(amount):
    with pytest.raises(DocumentError):
        documents.vnd(amount)


# --- Form 01 ------------------------------------------------------------------------------------------------------------


def test_receipt_shows_who_what_when_and_the_fees():
    text = pdf_text(receipt())
    for expected in ("Mẫu số 01", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "ỦY BAN NHÂN DÂN PHƯỜNG SÀI GÒN", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
                     "TP. Hồ Chí Minh, ngày 05 tháng 3 năm 2026", "Số: 000.00.14.H29-260305-0001/TNHS",
                     "Đỗ Văn Hùng", "Đỗ Minh Anh", "079099000123", "12 Lê Lợi, Phường Sài Gòn", "Nguyễn Thị Lan",
                     "Đăng ký khai sinh (mã thủ tục 1.000656)", "Trực tiếp",
                     "Tờ khai đăng ký khai sinh (bản chính)", "Giấy chứng sinh",
                     "Thời gian nhận hồ sơ: 08 giờ 30 phút, ngày 05/03/2026",
                     "Thời gian hẹn trả kết quả giải quyết hồ sơ: 16 giờ 00 phút, ngày 10/03/2026",
                     "Lệ phí đăng ký khai sinh: 50.000 đồng", "Phí cấp bản sao: 8.000 đồng", "Tổng cộng: 58.000 đồng",
                     "Tại Bộ phận Một cửa", "NGƯỜI TIẾP NHẬN HỒ SƠ"):
        assert expected in text, expected


def test_receipt_carries_a_qr_code_and_how_to_look_the_dossier_up():
    data = receipt()
    assert "Tra cứu tình trạng giải quyết hồ sơ trên Cổng Dịch vụ công bằng mã hồ sơ 000.00.14.H29-260305-0001" \
        in pdf_text(data)
    assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 1


def test_receipt_without_fees_says_none_are_charged():
    assert "Phí, lệ phí: Không thu phí, lệ phí" in pdf_text(receipt(fees=[]))


def test_receipt_with_an_appointment_before_reception_is_refused():
    with pytest.raises(DocumentError, match="appointment_at"):
        receipt(appointment_at=vn("2026-03-04 08:30"))


def test_same_facts_give_the_same_bytes_and_a_small_file():
    assert receipt() == receipt()
    assert receipt() != receipt(received_at=vn("2026-03-05 08:31"))
    assert len(receipt()) < 100_000  # the font is subset


def test_creation_date_is_the_documents_own_date():
    info = PdfReader(io.BytesIO(receipt())).metadata
    assert info.creation_date == dt.datetime(2026, 3, 5, 1, 30, tzinfo=dt.UTC)


def test_names_typed_decomposed_are_shown_composed():
    decomposed = unicodedata.normalize("NFD", "Đỗ Văn Hùng")
    dossier = DossierFacts(**{**DOSSIER.__dict__, "applicant_name": decomposed})
    data = documents.form_01_receipt(ISSUER, dossier, received_at=vn("2026-03-05 08:30"),
                                     appointment_at=vn("2026-03-10 16:00"), components=[], fees=[], officer_name=OFFICER)
    assert "Người nộp hồ sơ: Đỗ Văn Hùng" in pdf_text(data)


# --- Form 02 ------------------------------------------------------------------------------------------------------------

MISSING = [Item(f"Giấy tờ số {n}: bản sao có chứng thực giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài "
                f"sản khác gắn liền với đất của thửa đất số {n}",
                "nộp bản chính để đối chiếu; trường hợp mất bản chính thì nộp xác nhận của cơ quan đã cấp")
           for n in range(1, 13)]


def supplement_request(**changes) -> bytes:
    facts = dict(issued_at=vn("2026-03-06 10:15"), missing=MISSING, note="Hồ sơ thiếu các giấy tờ nêu trên.",
                 officer_name=OFFICER)
    return documents.form_02_supplement_request(ISSUER, DOSSIER, **(facts | changes))


def test_supplement_request_lists_every_missing_item_numbered_in_one_notice():
    pages = pdf_pages(supplement_request())
    text = " ".join(pages)
    assert len(pages) >= 2  # twelve long items do not fit on the first page
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and "Mẫu số 02" in text
    for number, item in enumerate(MISSING, start=1):
        assert f"{number}. {item.name} ({item.note})" in text, number
    assert "000.00.14.H29-260305-0001" in text and "Đỗ Văn Hùng" in text and "Nguyễn Thị Lan" in text
    assert "Ngày 06/03/2026" in text and "ngày 06 tháng 3 năm 2026" in text
    assert "Lý do: Hồ sơ thiếu các giấy tờ nêu trên." in text
    assert "Trang 2/" in pages[1]


def test_supplement_request_with_nothing_missing_is_refused():
    with pytest.raises(DocumentError, match="missing"):
        supplement_request(missing=[])


# --- Forms 03, 04, 05 ---------------------------------------------------------------------------------------------------


def test_refusal_gives_every_reason():
    data = documents.form_03_refusal(ISSUER, DOSSIER, issued_at=vn("2026-03-05 14:00"), officer_name=OFFICER,
                                     reasons=["Thủ tục không thuộc thẩm quyền của Phường Sài Gòn.",
                                              "Người nộp không có quyền yêu cầu cho người được giải quyết."])
    text = pdf_text(data)
    for expected in ("Mẫu số 03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", "000.00.14.H29-260305-0001",
                     "1. Thủ tục không thuộc thẩm quyền của Phường Sài Gòn.",
                     "2. Người nộp không có quyền yêu cầu cho người được giải quyết.",
                     "Đỗ Văn Hùng", "Nguyễn Thị Lan", "ngày 05 tháng 3 năm 2026"):
        assert expected in text, expected


def test_refusal_without_reasons_is_refused():
    with pytest.raises(DocumentError, match="reasons"):
        documents.form_03_refusal(ISSUER, DOSSIER, issued_at=vn("2026-03-05 14:00"), reasons=[], officer_name=OFFICER)


def apology(**changes) -> bytes:
    facts = dict(issued_at=vn("2026-03-09 09:00"), appointment_at=vn("2026-03-10 16:00"),
                 new_appointment_at=vn("2026-03-13 10:00"), reason="Cần xác minh thông tin tại Phường Bến Thành.",
                 officer_name="Trần Văn Bình")
    return documents.form_04_apology(ISSUER, DOSSIER, **(facts | changes))


def test_apology_gives_the_old_and_the_new_appointment_and_the_reason():
    text = pdf_text(apology())
    for expected in ("Mẫu số 04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "000.00.14.H29-260305-0001",
                     "16 giờ 00 phút, ngày 10/03/2026", "vào 10 giờ 00 phút, ngày 13/03/2026",
                     "Lý do: Cần xác minh thông tin tại Phường Bến Thành.", "Đỗ Văn Hùng", "Trần Văn Bình",
                     "ngày 09 tháng 3 năm 2026"):
        assert expected in text, expected


def test_apology_cannot_bring_the_appointment_forward():
    with pytest.raises(DocumentError, match="new_appointment_at"):
        apology(new_appointment_at=vn("2026-03-10 15:00"))


def test_stop_notice_gives_the_reason():
    data = documents.form_05_stop_notice(ISSUER, DOSSIER, issued_at=vn("2026-03-11 15:45"),
                                         reason="Người nộp hồ sơ đề nghị rút hồ sơ.", officer_name="Trần Văn Bình")
    text = pdf_text(data)
    for expected in ("Mẫu số 05", "PHIẾU DỪNG XỬ LÝ HỒ SƠ", "000.00.14.H29-260305-0001",
                     "kể từ 15 giờ 45 phút, ngày 11/03/2026", "Lý do: Người nộp hồ sơ đề nghị rút hồ sơ.",
                     "Đỗ Văn Hùng", "Trần Văn Bình"):
        assert expected in text, expected


def test_stop_notice_without_a_reason_is_refused():
    with pytest.raises(DocumentError, match="reason"):
        documents.form_05_stop_notice(ISSUER, DOSSIER, issued_at=vn("2026-03-11 15:45"), reason=" ",
                                      officer_name=OFFICER)


# --- Form 06 ------------------------------------------------------------------------------------------------------------

STEPS = [
    StepRow("Tiếp nhận hồ sơ", "Đỗ Văn Hùng", "Nguyễn Thị Lan", vn("2026-03-05 08:30"), vn("2026-03-05 16:30"),
            vn("2026-03-05 10:00"), "early"),
    StepRow("Thẩm định hồ sơ", "Nguyễn Thị Lan", "Trần Văn Bình", vn("2026-03-05 10:00"), vn("2026-03-09 10:00"),
            vn("2026-03-09 10:00"), "on_time"),
    StepRow("Phê duyệt", "Trần Văn Bình", "Lê Thị Mai", vn("2026-03-09 10:00"), vn("2026-03-10 10:00"),
            vn("2026-03-10 14:20"), "late", note="Chờ ký số"),
    StepRow("Trả kết quả", "Lê Thị Mai", "Nguyễn Thị Lan", vn("2026-03-10 14:20"), vn("2026-03-10 16:00")),
]


def test_process_control_shows_each_step_and_its_verdict_in_vietnamese():
    data = documents.form_06_process_control(ISSUER, DOSSIER, received_at=vn("2026-03-05 08:30"),
                                             appointment_at=vn("2026-03-10 16:00"), steps=STEPS)
    text = pdf_text(data)
    for expected in ("Mẫu số 06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "000.00.14.H29-260305-0001",
                     "Thời gian nhận hồ sơ: 08 giờ 30 phút, ngày 05/03/2026",
                     "Thời gian hẹn trả kết quả: 16 giờ 00 phút, ngày 10/03/2026",
                     "Thẩm định hồ sơ", "Trần Văn Bình", "Lê Thị Mai", "Chờ ký số",
                     "14 giờ 20 phút, ngày 10/03/2026"):
        assert expected in text, expected
    rows = {step.name: text[text.index(step.name):] for step in STEPS}
    assert "Trước hạn" in rows["Tiếp nhận hồ sơ"].split("Thẩm định")[0]
    assert "Đúng hạn" in rows["Thẩm định hồ sơ"].split("Phê duyệt")[0]
    assert "Quá hạn" in rows["Phê duyệt"].split("Trả kết quả")[0]
    assert "Đang xử lý" in rows["Trả kết quả"]


def test_process_control_refuses_an_unknown_verdict():
    step = StepRow("Phê duyệt", "A", "B", vn("2026-03-09 10:00"), vn("2026-03-10 10:00"), verdict="soon")
    with pytest.raises(DocumentError, match="soon"):
        documents.form_06_process_control(ISSUER, DOSSIER, received_at=vn("2026-03-05 08:30"),
                                          appointment_at=vn("2026-03-10 16:00"), steps=[step])


# --- Form 07 and its CSV ------------------------------------------------------------------------------------------------


def book_rows(count: int) -> list[BookRow]:
    rows = []
    for n in range(1, count + 1):
        received = vn("2026-03-02 07:45") + dt.timedelta(hours=n)
        finished = received + dt.timedelta(days=2) if n % 3 else None
        rows.append(BookRow(
            code=f"000.00.14.H29-260302-{n:04d}", procedure_name="Đăng ký khai sinh", applicant_name="Đỗ Văn Hùng",
            channel="Trực tuyến" if n % 2 else "Trực tiếp", received_at=received,
            appointment_at=received + dt.timedelta(days=3), finished_at=finished,
            delivered_at=finished + dt.timedelta(hours=2) if finished else None,
            status="Đã trả kết quả" if finished else "Đang xử lý",
            verdict=("early", "on_time", "late")[n // 3 % 3] if finished else "", note="Phường Sài Gòn" if n == 59 else ""))
    return rows


def test_tracking_book_paginates_repeats_its_headings_and_lists_every_dossier():
    data = documents.form_07_tracking_book(ISSUER, book_rows(60), period_from=dt.date(2026, 3, 1),
                                           period_to=dt.date(2026, 3, 31))
    pages = pdf_pages(data)
    text = " ".join(pages)
    assert len(pages) >= 3
    assert PdfReader(io.BytesIO(data)).pages[0].mediabox.width > PdfReader(io.BytesIO(data)).pages[0].mediabox.height
    assert "SỔ THEO DÕI HỒ SƠ" in text and "Từ ngày 01/03/2026 đến ngày 31/03/2026" in text and "Mẫu số 07" in text
    for page in pages:
        assert "STT Mã hồ sơ Thủ tục hành chính Người nộp" in page
    for n in range(1, 61):
        assert f"000.00.14.H29-260302-{n:04d}" in text, n
    assert "08 giờ 45 phút, ngày 02/03/2026" in text and "Trước hạn" in text and "Quá hạn" in text
    assert "Phường Sài Gòn" in text


def test_tracking_book_with_no_dossiers_says_so():
    data = documents.form_07_tracking_book(ISSUER, [], period_from=dt.date(2026, 3, 1), period_to=dt.date(2026, 3, 1))
    assert "Không có hồ sơ trong kỳ." in pdf_text(data)


def test_tracking_book_refuses_an_inverted_period():
    with pytest.raises(DocumentError, match="period_from"):
        documents.form_07_tracking_book(ISSUER, [], period_from=dt.date(2026, 3, 2), period_to=dt.date(2026, 3, 1))


def test_tracking_book_csv_round_trips_with_bom_crlf_and_vietnamese():
    data = documents.tracking_book_csv(book_rows(60))
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n") == 61
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0][:4] == ["STT", "Mã hồ sơ", "Thủ tục hành chính", "Người nộp"]
    assert len(table) == 61
    first, late = table[1], table[59]
    assert first[1] == "000.00.14.H29-260302-0001" and first[3] == "Đỗ Văn Hùng"
    assert first[5] == "02/03/2026 08:45"  # Vietnam time, read as a date by a spreadsheet
    assert first[-2] == "Trước hạn" and first[4] == "Trực tuyến"
    assert late[-1] == "Phường Sài Gòn" and late[-2] == "Đúng hạn" and late[9] == "Đã trả kết quả"


def test_tracking_book_csv_writes_formula_like_cells_as_text():
    row = book_rows(1)[0]
    row = BookRow(**{**row.__dict__, "applicant_name": "=HYPERLINK(\"http://x\")", "note": "-2+3"})
    table = list(csv.reader(io.StringIO(documents.tracking_book_csv([row]).decode("utf-8-sig"), newline="")))
    assert table[1][3] == "'=HYPERLINK(\"http://x\")" and table[1][-1] == "'-2+3"


# --- Result document ----------------------------------------------------------------------------------------------------


def test_result_document_renders_the_template_text_and_the_signer():
    data = documents.result_document(
        ISSUER, DOSSIER, title="Giấy chứng nhận đăng ký hộ kinh doanh", issued_at=vn("2026-03-10 15:00"),
        body="Chứng nhận hộ kinh doanh của ông Đỗ Văn Hùng.\n\nĐịa điểm kinh doanh: 12 Lê Lợi, Phường Sài Gòn.",
        signer_name="Phạm Quốc Việt", signer_title="Chủ tịch")
    text = pdf_text(data)
    for expected in ("GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH", "Chứng nhận hộ kinh doanh của ông Đỗ Văn Hùng.",
                     "Địa điểm kinh doanh: 12 Lê Lợi, Phường Sài Gòn.", "CHỦ TỊCH", "Phạm Quốc Việt",
                     "TP. Hồ Chí Minh, ngày 10 tháng 3 năm 2026", "000.00.14.H29-260305-0001"):
        assert expected in text, expected


# --- Naive datetimes ----------------------------------------------------------------------------------------------------

NAIVE = dt.datetime(2026, 3, 5, 8, 30)

NAIVE_CALLS = {
    "form 01": lambda: receipt(received_at=NAIVE),
    "form 02": lambda: supplement_request(issued_at=NAIVE),
    "form 03": lambda: documents.form_03_refusal(ISSUER, DOSSIER, issued_at=NAIVE, reasons=["x"], officer_name=OFFICER),
    "form 04": lambda: apology(new_appointment_at=NAIVE),
    "form 05": lambda: documents.form_05_stop_notice(ISSUER, DOSSIER, issued_at=NAIVE, reason="x", officer_name=OFFICER),
    "form 06": lambda: documents.form_06_process_control(
        ISSUER, DOSSIER, received_at=vn("2026-03-05 08:30"), appointment_at=vn("2026-03-10 16:00"),
        steps=[StepRow("Phê duyệt", "A", "B", vn("2026-03-09 10:00"), NAIVE)]),
    "form 07": lambda: documents.form_07_tracking_book(
        ISSUER, [BookRow("c", "p", "a", "Trực tiếp", NAIVE, None, None, None, "Đang xử lý")],
        period_from=dt.date(2026, 3, 1), period_to=dt.date(2026, 3, 31)),
    "csv": lambda: documents.tracking_book_csv(
        [BookRow("c", "p", "a", "Trực tiếp", vn("2026-03-05 08:30"), None, None, NAIVE, "Đã trả kết quả")]),
    "result": lambda: documents.result_document(ISSUER, DOSSIER, title="T", body="B", issued_at=NAIVE,
                                                signer_name="S", signer_title="Chủ tịch"),
}
NAIVE_FIELDS = {"form 01": "received_at", "form 02": "issued_at", "form 03": "issued_at",
                "form 04": "new_appointment_at", "form 05": "issued_at", "form 06": "steps[0].due_at",
                "form 07": "rows[0].received_at", "csv": "rows[0].delivered_at", "result": "issued_at"}


@pytest.mark.parametrize("document", NAIVE_CALLS)
def test_naive_datetimes_are_refused_naming_the_field(document):
    with pytest.raises(ValueError, match=rf"{NAIVE_FIELDS[document].replace('[', r'\[').replace(']', r'\]')} "
                                         r"is a naive datetime"):
        NAIVE_CALLS[document]()


# --- Read by assistive technology -----------------------------------------------------------------------------------

DOCUMENTS = {
    "form 01": (lambda: receipt(), "Giấy tiếp nhận hồ sơ và hẹn trả kết quả - Mã hồ sơ 000.00.14.H29-260305-0001"),
    "form 03": (lambda: documents.form_03_refusal(ISSUER, DOSSIER, issued_at=vn("2026-03-05 09:00"), reasons=["x"],
                                                  officer_name=OFFICER),
                "Phiếu từ chối tiếp nhận giải quyết hồ sơ - Mã hồ sơ 000.00.14.H29-260305-0001"),
    "form 07": (lambda: documents.form_07_tracking_book(ISSUER, [], period_from=dt.date(2026, 3, 1),
                                                        period_to=dt.date(2026, 3, 31)),
                "Sổ theo dõi hồ sơ từ ngày 01/03/2026 đến ngày 31/03/2026"),
    "declaration": (lambda: documents.eform_declaration(
        ISSUER, DOSSIER, title="Tờ khai đăng ký khai sinh (Mẫu TP/HT-2020-KS.1)", answers=[("Họ tên", "Đỗ Minh Anh")],
        submitted_at=vn("2026-03-05 08:30"), declared=True),
        "Tờ khai đăng ký khai sinh (Mẫu TP/HT-2020-KS.1) - Mã hồ sơ 000.00.14.H29-260305-0001"),
    "draft result": (lambda: documents.result_document(
        ISSUER, DOSSIER, title="Giấy khai sinh", body="B", issued_at=vn("2026-03-06 10:00"), signer_name="S",
        signer_title="Chủ tịch", draft=True), "Dự thảo: Giấy khai sinh - Mã hồ sơ 000.00.14.H29-260305-0001"),
}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_document_is_in_vietnamese_and_named_by_its_title_for_screen_readers(document):
    make, title = DOCUMENTS[document]
    reader = PdfReader(io.BytesIO(make()))
    assert reader.trailer["/Root"]["/Lang"] == "vi"
    assert reader.metadata.title == title
    assert bool(reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"])


def test_a_declaration_printed_at_the_desk_is_signed_by_hand_and_has_no_code_until_received():
    before = DossierFacts(**{**DOSSIER.__dict__, "code": ""})
    printed = documents.declaration_to_sign(ISSUER, before, title="Tờ khai đăng ký khai sinh",
                                            answers=[("Họ, chữ đệm và tên người được khai sinh", "Đỗ Minh Anh")],
                                            printed_at=vn("2026-03-05 08:30"))
    text = pdf_text(printed)
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text and "Lập tại Bộ phận Một cửa" in text
    assert "Kính gửi: Ủy ban nhân dân Phường Sài Gòn" in text and "Đỗ Minh Anh" in text
    assert "TP. Hồ Chí Minh, ngày 05 tháng 03 năm 2026" in text
    assert "NGƯỜI KHAI" in text and "(Ký, ghi rõ họ tên)" in text and "Đỗ Văn Hùng" in text
    assert "Mã hồ sơ" not in text and "Tra cứu" not in text  # no code, so no look-up QR code either
    assert PdfReader(io.BytesIO(printed)).metadata.title == "Tờ khai đăng ký khai sinh"
