"""Documents the one-stop desk issues (giấy tờ của Bộ phận Một cửa), Circular 03/2025/TT-VPCP forms 01–07, as PDFs.

Pure functions: facts in, PDF bytes out; no database, no clock. The forms are legal documents in Vietnamese, so their
texts are Vietnamese by law and not translated. Layout follows the official forms and Decree 30/2020/ND-CP (Appendix I):
the issuing agency top-left, the national motto top-right, number, place and date, the title, the body, the signatures.

- Instants must be timezone-aware; they are shown in Asia/Ho_Chi_Minh as "08 giờ 30 phút, ngày 05/03/2026".
- The place-and-date line writes days below 10 and the months January and February with a leading zero and other months
  without one ("ngày 05 tháng 3 năm 2026", "ngày 12 tháng 02 năm 2026"): Decree 30/2020 does so to stop "1" being turned
  into "11" or "12" after signing.
- A PDF's creation date is the document's own date, so the same facts give the same bytes.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import font_source_sans_pro
import segno
from fpdf import FPDF, ViewerPreferences
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from egov.kernel import money
from egov.kernel.calendar_rules import VN_TZ

FONT_DIR = Path(font_source_sans_pro.__file__).parent / "files"
FONT = "SourceSansPro"

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
SUB_MOTTO = "Độc lập - Tự do - Hạnh phúc"

# Kết quả giải quyết so với hạn (form 06, form 07).
VERDICTS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
RUNNING = "Đang xử lý"

# An instant in a table cell takes two lines, "08 giờ 30 phút," and "ngày 05/03/2026" (19.5 mm at 8 pt): the widths
# below give its column 23 mm, and a dossier code (32-34 mm) 36 mm, so neither is cut inside a word.

# Body text sizes (points) and line height (mm).
BODY_PT, SMALL_PT, TABLE_PT, TITLE_PT = 12, 10, 8, 13
LINE_H = 6.5
HEADING_STYLE = FontFace(family=FONT, emphasis="BOLD", size_pt=TABLE_PT, fill_color=(235, 235, 235))


class DocumentError(ValueError):
    """Facts a document cannot be made from: a naive datetime, a negative fee, an empty list of reasons..."""


# --------------------------------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """Cơ quan ban hành: the agency issuing the form, under its parent (cơ quan chủ quản); place is e.g. "TP. Hồ Chí Minh"."""
    name: str
    code: str
    parent_name: str = ""
    place: str = ""


@dataclass(frozen=True)
class DossierFacts:
    """Thông tin hồ sơ shown on the forms. channel is its label ("Trực tiếp"); subject_name is the person the dossier
    is for (người được giải quyết) when not the applicant."""
    code: str
    procedure_code: str
    procedure_name: str
    channel: str
    applicant_name: str
    applicant_id_number: str = ""
    applicant_address: str = ""
    applicant_phone: str = ""
    applicant_email: str = ""
    subject_name: str = ""


@dataclass(frozen=True)
class Item:
    """Thành phần hồ sơ: a dossier component received (form 01) or missing (form 02)."""
    name: str
    note: str = ""


@dataclass(frozen=True)
class StepRow:
    """One processing step on form 06 (phiếu kiểm soát quá trình). verdict: "early" | "on_time" | "late" | "" (running)."""
    name: str
    handed_by: str
    received_by: str
    started_at: dt.datetime
    due_at: dt.datetime
    completed_at: dt.datetime | None = None
    verdict: str = ""
    note: str = ""


@dataclass(frozen=True)
class BookRow:
    """One dossier in the tracking book (sổ theo dõi hồ sơ, form 07)."""
    code: str
    procedure_name: str
    applicant_name: str
    channel: str
    received_at: dt.datetime | None
    appointment_at: dt.datetime | None
    finished_at: dt.datetime | None
    delivered_at: dt.datetime | None
    status: str
    verdict: str = ""
    note: str = ""


# --------------------------------------------------------------------------------------------------------------------
# Formatting (pure)
# --------------------------------------------------------------------------------------------------------------------


def require_aware(**instants: dt.datetime | None) -> None:
    """Refuse naive datetimes by name: a naive time cannot be placed in Vietnam's time zone without guessing."""
    for name, value in instants.items():
        if value is None:
            continue
        if not isinstance(value, dt.datetime):
            raise DocumentError(f"{name} must be a datetime, not {type(value).__name__}.")
        if value.tzinfo is None or value.utcoffset() is None:
            raise DocumentError(f"{name} is a naive datetime ({value.isoformat()}); give it a time zone.")


def vn_date(value: dt.date | dt.datetime) -> str:
    """05/03/2026 (a datetime is first put in Vietnam's time zone)."""
    if isinstance(value, dt.datetime):
        require_aware(date=value)
        value = value.astimezone(VN_TZ).date()
    return value.strftime("%d/%m/%Y")


def vn_instant(value: dt.datetime | None) -> str:
    """08 giờ 30 phút, ngày 05/03/2026 (Asia/Ho_Chi_Minh); empty for None."""
    if value is None:
        return ""
    require_aware(instant=value)
    local = value.astimezone(VN_TZ)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def vn_place_date(place: str, day: dt.date) -> str:
    """TP. Hồ Chí Minh, ngày 05 tháng 3 năm 2026: day below 10 and months 1, 2 zero-padded (Decree 30/2020)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    text = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    return f"{place}, {text}" if place else text[0].upper() + text[1:]


def vnd(amount: int) -> str:
    """50.000 đồng (VND are whole numbers; the thousands separator is a dot)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise DocumentError(f"An amount in VND must be a whole number, not {amount!r}.")
    if amount < 0:
        raise DocumentError(f"An amount cannot be negative: {amount}.")
    return money.group_thousands(amount) + " đồng"


def verdict_label(verdict: str, *, running: str = "") -> str:
    """Trước hạn / Đúng hạn / Quá hạn; ``running`` for a step or dossier not finished yet."""
    if not verdict:
        return running
    try:
        return VERDICTS[verdict]
    except KeyError:
        raise DocumentError(f"Unknown verdict {verdict!r}: use one of {', '.join(VERDICTS)} or ''.") from None


def _text(value: str) -> str:
    # Names typed on some keyboards arrive decomposed (a letter + combining marks); the font has the precomposed
    # Vietnamese letters, and without text shaping combining marks would be drawn apart.
    return unicodedata.normalize("NFC", value or "")


def _item_text(item: Item) -> str:
    return f"{item.name} ({item.note})" if item.note else item.name


def _local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(VN_TZ).date()


# --------------------------------------------------------------------------------------------------------------------
# The page and its shared blocks
# --------------------------------------------------------------------------------------------------------------------


class _Page(FPDF):
    """A4 with the Vietnamese-capable font, page numbers in the footer, and a fixed creation date."""

    def __init__(self, *, created: dt.datetime, landscape: bool = False, footer_text: str = ""):
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.add_font(FONT, "", FONT_DIR / "SourceSansPro-Regular.ttf")
        self.add_font(FONT, "B", FONT_DIR / "SourceSansPro-Bold.ttf")
        self.add_font(FONT, "I", FONT_DIR / "SourceSansPro-It.ttf")
        # Margins of Decree 30/2020: top 20, bottom 20, left 30, right 15 (landscape: a book, narrower left).
        self.set_margins(left=20 if landscape else 30, top=20, right=15)
        self.set_auto_page_break(auto=True, margin=20)
        self.set_creation_date(created.astimezone(dt.UTC))
        self.set_creator("egov")
        self.set_producer("egov")
        # Read aloud in Vietnamese, and named by its title rather than its file name (WCAG 3.1.1 and 2.4.2 in PDF:
        # techniques PDF16 and PDF18); ``_title`` sets the title.
        self.set_lang("vi")
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)
        self.footer_text = footer_text
        self.dossier_code = ""  # the dossier the document is about, if any (``_new``)
        self.add_page()
        self.set_font(FONT, size=BODY_PT)

    def footer(self):
        self.set_y(-14)
        self.set_font(FONT, "I", 8)
        label = f"{self.footer_text} - " if self.footer_text else ""
        self.cell(0, 5, f"{label}Trang {self.page_no()}/{{nb}}", align="R")

    @property
    def width(self) -> float:
        """Usable width between the margins."""
        return self.w - self.l_margin - self.r_margin


def _pdf(pdf: _Page) -> bytes:
    return bytes(pdf.output())


def _header(pdf: _Page, issuer: Issuer, *, form_no: str, number: str = "", day: dt.date | None = None) -> None:
    """Quốc hiệu, tiêu ngữ, tên cơ quan, số, địa danh và ngày tháng; the form's number above, at the right."""
    if form_no:
        pdf.set_font(FONT, "B", SMALL_PT)
        pdf.cell(0, 5, f"Mẫu số {form_no}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_w = pdf.width * 0.42
    right_w = pdf.width - left_w
    top = pdf.get_y()

    pdf.set_xy(pdf.l_margin, top)
    if issuer.parent_name:
        pdf.set_font(FONT, "", SMALL_PT + 1)
        pdf.multi_cell(left_w, 5.5, _text(issuer.parent_name).upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", SMALL_PT + 1)
    pdf.multi_cell(left_w, 5.5, _text(issuer.name).upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    _rule_under(pdf, pdf.l_margin, left_w, 20)
    left_bottom = pdf.get_y()

    pdf.set_xy(pdf.l_margin + left_w, top)
    pdf.set_font(FONT, "B", SMALL_PT + 1)
    pdf.multi_cell(right_w, 5.5, MOTTO, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", SMALL_PT + 2)
    pdf.multi_cell(right_w, 5.5, SUB_MOTTO, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    _rule_under(pdf, pdf.l_margin + left_w, right_w, pdf.get_string_width(SUB_MOTTO))
    right_bottom = pdf.get_y()

    top = max(left_bottom, right_bottom) + 1
    pdf.set_xy(pdf.l_margin, top)
    if number:
        pdf.set_font(FONT, "", SMALL_PT + 1)
        pdf.multi_cell(left_w, 5.5, f"Số: {_text(number)}", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left_w, top)
    if day is not None:
        pdf.set_font(FONT, "I", SMALL_PT + 2)
        pdf.multi_cell(right_w, 5.5, vn_place_date(_text(issuer.place), day), align="C",
                       new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 4)


def _rule_under(pdf: _Page, x: float, width: float, length: float) -> None:
    """The short line under the agency's name and under the motto, centred in its column."""
    y = pdf.get_y() + 0.8
    length = min(length, width)
    pdf.set_line_width(0.3)
    pdf.line(x + (width - length) / 2, y, x + (width + length) / 2, y)
    pdf.set_y(y + 1.5)


def _title(pdf: _Page, title: str, *subtitles: str, name: str = "") -> None:
    """The document's title, printed; the first one is also its title for readers (``name``, else the title in
    sentence case: capitals are spelled out by some screen readers), with the dossier's code."""
    if not pdf.title:
        name = " ".join((name or title.capitalize()).split())
        pdf.set_title(f"{name} - Mã hồ sơ {pdf.dossier_code}" if pdf.dossier_code else name)
    pdf.set_font(FONT, "B", TITLE_PT + 1)
    pdf.multi_cell(0, 7, _text(title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", BODY_PT)
    for subtitle in subtitles:
        if subtitle:
            pdf.multi_cell(0, LINE_H, _text(subtitle), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _paragraph(pdf: _Page, text: str, *, style: str = "", indent: float = 0, align: str = "J") -> None:
    """A paragraph that wraps; lines of the text are kept as given."""
    pdf.set_font(FONT, style, BODY_PT)
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(pdf.width - indent, LINE_H, _text(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _field(pdf: _Page, label: str, value: str) -> None:
    """"Label: value", the label bold, wrapping as running text; nothing when there is no value."""
    if not value:
        return
    pdf.set_x(pdf.l_margin)
    pdf.set_font(FONT, "B", BODY_PT)
    pdf.write(LINE_H, f"{label}: ")
    pdf.set_font(FONT, "", BODY_PT)
    pdf.write(LINE_H, _text(value))
    pdf.ln(LINE_H)


def _applicant_fields(pdf: _Page, dossier: DossierFacts) -> None:
    _field(pdf, "Mã hồ sơ", dossier.code)
    _field(pdf, "Người nộp hồ sơ", dossier.applicant_name)
    _field(pdf, "Số định danh cá nhân", dossier.applicant_id_number)
    _field(pdf, "Địa chỉ", dossier.applicant_address)
    _field(pdf, "Số điện thoại", dossier.applicant_phone)
    _field(pdf, "Thư điện tử", dossier.applicant_email)
    _field(pdf, "Người được giải quyết", dossier.subject_name)
    _field(pdf, "Nội dung yêu cầu giải quyết", f"{dossier.procedure_name} (mã thủ tục {dossier.procedure_code})")
    _field(pdf, "Hình thức nộp", dossier.channel)


def _numbered(pdf: _Page, texts: Iterable[str], *, indent: float = 6) -> None:
    """1. … 2. …, with a hanging indent; a number never sits alone at the foot of a page."""
    pdf.set_font(FONT, "", BODY_PT)
    for number, text in enumerate(texts, start=1):
        if pdf.will_page_break(LINE_H):
            pdf.add_page()
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(9, LINE_H, f"{number}.")
        pdf.multi_cell(pdf.width - indent - 9, LINE_H, _text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


@dataclass(frozen=True)
class Signer:
    title: str  # NGƯỜI TIẾP NHẬN HỒ SƠ
    name: str
    hint: str = "(Ký và ghi rõ họ tên)"


def _signatures(pdf: _Page, *signers: Signer) -> None:
    """One signer at the right; two side by side. Kept whole on one page, with room to sign."""
    height = 6 * 3 + 24
    pdf.ln(6)
    if pdf.will_page_break(height):
        pdf.add_page()
    column = pdf.width / 2
    top = pdf.get_y()
    bottoms = []
    for i, signer in enumerate(signers):
        x = pdf.l_margin + column * (i + (2 - len(signers)))
        pdf.set_xy(x, top)
        pdf.set_font(FONT, "B", BODY_PT)
        pdf.multi_cell(column, 6, _text(signer.title).upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, "I", SMALL_PT)
        pdf.multi_cell(column, 5, signer.hint, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_y(pdf.get_y() + 22)
        pdf.set_x(x)
        pdf.set_font(FONT, "B", BODY_PT)
        pdf.multi_cell(column, 6, _text(signer.name), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms))


def _table(pdf: _Page, headings: Sequence[str], widths: Sequence[float], rows: Iterable[Sequence[str]], *,
           size: int = TABLE_PT, text_align: str = "CENTER") -> None:
    """A table across the page (widths are relative) whose rows wrap and continue on the next page under the
    repeated headings."""
    pdf.set_font(FONT, "", size)
    pdf.set_draw_color(0)
    headings_style = HEADING_STYLE if size == TABLE_PT else FontFace(
        family=FONT, emphasis="BOLD", size_pt=size, fill_color=HEADING_STYLE.fill_color)
    with pdf.table(col_widths=tuple(widths), width=pdf.width, align="LEFT", line_height=size / 2, text_align=text_align,
                   repeat_headings=1, headings_style=headings_style, padding=1) as table:
        table.row(headings)
        for values in rows:
            table.row([_text(value) for value in values])
    pdf.set_font(FONT, "", BODY_PT)


def _qr_png(data: str) -> io.BytesIO:
    png = io.BytesIO()
    segno.make(data, error="m").save(png, kind="png", scale=6, border=2)
    png.seek(0)
    return png


def _new(created: dt.datetime, dossier: DossierFacts | None = None, *, landscape: bool = False) -> _Page:
    pdf = _Page(created=created, landscape=landscape, footer_text=f"Mã hồ sơ {dossier.code}" if dossier else "")
    pdf.dossier_code = dossier.code if dossier else ""
    return pdf


def _require_items(name: str, values: Sequence) -> None:
    if not values:
        raise DocumentError(f"{name} cannot be empty: the form exists to list them.")


# --------------------------------------------------------------------------------------------------------------------
# The forms
# --------------------------------------------------------------------------------------------------------------------


def form_01_receipt(issuer: Issuer, dossier: DossierFacts, *, received_at: dt.datetime, appointment_at: dt.datetime,
                    components: list[Item], fees: list[tuple[str, int]], officer_name: str,
                    return_method: str = "") -> bytes:
    """Mẫu số 01, Giấy tiếp nhận hồ sơ và hẹn trả kết quả: what was received, when, and when the result is due."""
    require_aware(received_at=received_at, appointment_at=appointment_at)
    if appointment_at < received_at:
        raise DocumentError("appointment_at is before received_at: a result cannot be due before the dossier arrives.")
    fee_lines = [f"{_text(name)}: {vnd(amount)}" for name, amount in fees]
    total = vnd(sum(amount for _, amount in fees))

    pdf = _new(received_at, dossier)
    _header(pdf, issuer, form_no="01", number=f"{dossier.code}/TNHS", day=_local_day(received_at))
    _title(pdf, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
    _paragraph(pdf, f"{issuer.name} đã tiếp nhận hồ sơ như sau:")
    _applicant_fields(pdf, dossier)
    _paragraph(pdf, "1. Thành phần hồ sơ nộp gồm:", style="B")
    _numbered(pdf, [_item_text(item) for item in components] or ["(không có thành phần hồ sơ)"])
    _field(pdf, "2. Thời gian nhận hồ sơ", vn_instant(received_at))
    _field(pdf, "3. Thời gian hẹn trả kết quả giải quyết hồ sơ", vn_instant(appointment_at))
    if fee_lines:
        _paragraph(pdf, "4. Phí, lệ phí:", style="B")
        _numbered(pdf, fee_lines)
        _field(pdf, "Tổng cộng", total)
    else:
        _field(pdf, "4. Phí, lệ phí", "Không thu phí, lệ phí")
    _field(pdf, "5. Đăng ký nhận kết quả tại", return_method)
    _lookup(pdf, dossier.code)
    _signatures(pdf, Signer("Người nộp hồ sơ", dossier.applicant_name), Signer("Người tiếp nhận hồ sơ", officer_name))
    return _pdf(pdf)


def eform_declaration(issuer: Issuer, dossier: DossierFacts, *, title: str, answers: list[tuple[str, str]],
                      submitted_at: dt.datetime, declared: bool) -> bytes:
    """Tờ khai điện tử: the declaration (tờ khai) that an online applicant's e-form answers stand for, addressed to the
    receiving agency, with the answers as given and, when they affirmed them at submission, their affirmation. Written
    by the applicant, not issued: the national motto heads it, and no agency signs it."""
    require_aware(submitted_at=submitted_at)
    _require_items("answers", answers)
    pdf = _new(submitted_at, dossier)
    _declaration_head(pdf, issuer, dossier, title=title, subtitle="(Tờ khai điện tử, nộp trực tuyến)", answers=answers)
    _field(pdf, "Thời điểm nộp", vn_instant(submitted_at))
    if declared:
        _paragraph(pdf, "Người khai đã cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm "
                        "trước pháp luật về lời cam đoan của mình (xác nhận trên Cổng Dịch vụ công bằng tài khoản "
                        "định danh điện tử khi nộp hồ sơ).", style="I")
    _lookup(pdf, dossier.code)
    return _pdf(pdf)


def declaration_to_sign(issuer: Issuer, dossier: DossierFacts, *, title: str, answers: list[tuple[str, str]],
                        printed_at: dt.datetime) -> bytes:
    """Tờ khai lập tại Bộ phận Một cửa: the declaration of an applicant who came to the desk without it, printed from
    the answers the officer typed as they gave them, for the applicant to read, correct by hand if need be and sign.
    The signed paper is the dossier's component, scanned with the others; until then it has no dossier code."""
    require_aware(printed_at=printed_at)
    _require_items("answers", answers)
    pdf = _new(printed_at, dossier if dossier.code else None)
    _declaration_head(pdf, issuer, dossier, title=title,
                      subtitle="(Lập tại Bộ phận Một cửa theo nội dung người nộp hồ sơ khai)", answers=answers)
    _paragraph(pdf, "Tôi xin cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật "
                    "về lời cam đoan của mình.")
    day = _local_day(printed_at)
    pdf.set_font(FONT, "I", BODY_PT)
    pdf.ln(2)
    pdf.cell(0, LINE_H, _text(f"{issuer.place or '……'}, ngày {day:%d} tháng {day:%m} năm {day:%Y}"), align="R",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _signatures(pdf, Signer("Người khai", dossier.applicant_name, hint="(Ký, ghi rõ họ tên)"))
    if dossier.code:
        _lookup(pdf, dossier.code)
    return _pdf(pdf)


def _declaration_head(pdf: _Page, issuer: Issuer, dossier: DossierFacts, *, title: str, subtitle: str,
                      answers: list[tuple[str, str]]) -> None:
    """A citizen's declaration: the national motto (no agency heads it: the applicant writes it), its title, the
    agency it is addressed to, who declares and the answers."""
    pdf.set_font(FONT, "B", SMALL_PT + 2)
    pdf.cell(0, 6, MOTTO, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, SUB_MOTTO, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _rule_under(pdf, pdf.l_margin, pdf.width, pdf.get_string_width(SUB_MOTTO))
    pdf.ln(4)
    _title(pdf, _text(title).upper(), subtitle, name=_text(title))
    _field(pdf, "Kính gửi", issuer.name)
    _applicant_fields(pdf, dossier)
    _paragraph(pdf, "Nội dung khai:", style="B")
    _table(pdf, ("Thông tin", "Nội dung khai"), (2, 3), answers, size=SMALL_PT + 1, text_align="LEFT")
    pdf.ln(2)


def _lookup(pdf: _Page, code: str) -> None:
    """The QR code of the dossier code, with the text telling the applicant how to follow the dossier."""
    size = 28
    pdf.ln(3)
    if pdf.will_page_break(size):
        pdf.add_page()
    top = pdf.get_y()
    pdf.image(_qr_png(code), x=pdf.l_margin, y=top, w=size, h=size, alt_text=f"Mã QR của mã hồ sơ {code}")
    pdf.set_xy(pdf.l_margin + size + 4, top + 4)
    pdf.set_font(FONT, "I", SMALL_PT + 1)
    pdf.multi_cell(pdf.width - size - 4, 5.5,
                   f"Tra cứu tình trạng giải quyết hồ sơ trên Cổng Dịch vụ công bằng mã hồ sơ {code} "
                   "hoặc quét mã QR này.", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), top + size))


def form_02_supplement_request(issuer: Issuer, dossier: DossierFacts, *, issued_at: dt.datetime, missing: list[Item],
                               note: str, officer_name: str) -> bytes:
    """Mẫu số 02, Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: EVERY missing item in one notice (asking twice counts late)."""
    require_aware(issued_at=issued_at)
    _require_items("missing", missing)
    pdf = _new(issued_at, dossier)
    _header(pdf, issuer, form_no="02", number=f"{dossier.code}/YCBS", day=_local_day(issued_at))
    _title(pdf, "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ")
    _applicant_fields(pdf, dossier)
    _paragraph(pdf, f"Ngày {vn_date(issued_at)}, {issuer.name} đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ "
                    "gồm những nội dung sau:")
    _numbered(pdf, [_item_text(item) for item in missing])
    _field(pdf, "Lý do", note)
    _paragraph(pdf, f"Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ với {officer_name} "
                    "để được hướng dẫn.")
    _signatures(pdf, Signer("Người hướng dẫn", officer_name))
    return _pdf(pdf)


def form_03_refusal(issuer: Issuer, dossier: DossierFacts, *, issued_at: dt.datetime, reasons: list[str],
                    officer_name: str) -> bytes:
    """Mẫu số 03, Phiếu từ chối tiếp nhận giải quyết hồ sơ, with every reason."""
    require_aware(issued_at=issued_at)
    _require_items("reasons", reasons)
    pdf = _new(issued_at, dossier)
    _header(pdf, issuer, form_no="03", number=f"{dossier.code}/TCTN", day=_local_day(issued_at))
    _title(pdf, "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ")
    _applicant_fields(pdf, dossier)
    _paragraph(pdf, "Qua nghiên cứu, đối chiếu với quy định hiện hành, hồ sơ không đủ điều kiện tiếp nhận, "
                    "giải quyết với lý do cụ thể như sau:")
    _numbered(pdf, reasons)
    _paragraph(pdf, "Xin thông báo để Ông/Bà được biết./.")
    _signatures(pdf, Signer("Người tiếp nhận hồ sơ", officer_name))
    return _pdf(pdf)


def form_04_apology(issuer: Issuer, dossier: DossierFacts, *, issued_at: dt.datetime, appointment_at: dt.datetime,
                    new_appointment_at: dt.datetime, reason: str, officer_name: str) -> bytes:
    """Mẫu số 04, Phiếu xin lỗi và hẹn lại ngày trả kết quả: the result will be late; the new date, and why."""
    require_aware(issued_at=issued_at, appointment_at=appointment_at, new_appointment_at=new_appointment_at)
    if new_appointment_at <= appointment_at:
        raise DocumentError("new_appointment_at must be after appointment_at: the apology postpones the result.")
    pdf = _new(issued_at, dossier)
    _header(pdf, issuer, form_no="04", number=f"{dossier.code}/XLHL", day=_local_day(issued_at))
    _title(pdf, "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ")
    _applicant_fields(pdf, dossier)
    _field(pdf, "Thời gian hẹn trả kết quả giải quyết hồ sơ", vn_instant(appointment_at))
    _paragraph(pdf, f"Tuy nhiên đến nay, {issuer.name} chưa trả kết quả giải quyết hồ sơ của Ông/Bà đúng hẹn.")
    _field(pdf, "Lý do", reason)
    _paragraph(pdf, f"Sự chậm trễ này đã gây phiền hà cho Ông/Bà. {issuer.name} xin lỗi Ông/Bà và sẽ trả kết quả "
                    f"giải quyết hồ sơ cho Ông/Bà vào {vn_instant(new_appointment_at)}.")
    _paragraph(pdf, "Xin trân trọng cảm ơn sự hợp tác của Ông/Bà./.")
    _signatures(pdf, Signer("Đại diện cơ quan", officer_name, "(Ký, ghi rõ họ tên và đóng dấu)"))
    return _pdf(pdf)


def form_05_stop_notice(issuer: Issuer, dossier: DossierFacts, *, issued_at: dt.datetime, reason: str,
                        officer_name: str) -> bytes:
    """Mẫu số 05, Phiếu dừng xử lý hồ sơ: processing stops, for the legal reason given."""
    require_aware(issued_at=issued_at)
    if not reason.strip():
        raise DocumentError("reason cannot be empty: stopping a dossier needs a legal reason.")
    pdf = _new(issued_at, dossier)
    _header(pdf, issuer, form_no="05", number=f"{dossier.code}/DXL", day=_local_day(issued_at))
    _title(pdf, "PHIẾU DỪNG XỬ LÝ HỒ SƠ")
    _applicant_fields(pdf, dossier)
    _paragraph(pdf, f"{issuer.name} thông báo dừng xử lý hồ sơ nêu trên kể từ {vn_instant(issued_at)}.")
    _field(pdf, "Lý do", reason)
    _paragraph(pdf, "Xin thông báo để Ông/Bà được biết./.")
    _signatures(pdf, Signer("Đại diện cơ quan", officer_name, "(Ký, ghi rõ họ tên và đóng dấu)"))
    return _pdf(pdf)


STEP_HEADINGS = ("STT", "Bước xử lý", "Người giao", "Người nhận", "Bắt đầu", "Hạn xử lý", "Hoàn thành",
                 "Kết quả", "Ghi chú")
STEP_WIDTHS = (7, 24, 18, 18, 23, 23, 23, 15, 14)  # relative; in mm on a portrait page


def form_06_process_control(issuer: Issuer, dossier: DossierFacts, *, received_at: dt.datetime,
                            appointment_at: dt.datetime, steps: list[StepRow]) -> bytes:
    """Mẫu số 06, Phiếu kiểm soát quá trình giải quyết hồ sơ: each step, who handed it to whom, when, and whether it
    finished before, on or after its own deadline."""
    require_aware(received_at=received_at, appointment_at=appointment_at)
    rows = [_step_cells(number, step) for number, step in enumerate(steps, start=1)]
    latest = max([received_at] + [s.completed_at or s.started_at for s in steps])
    pdf = _new(latest, dossier)
    _header(pdf, issuer, form_no="06")
    _title(pdf, "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ")
    _applicant_fields(pdf, dossier)
    _field(pdf, "Thời gian nhận hồ sơ", vn_instant(received_at))
    _field(pdf, "Thời gian hẹn trả kết quả", vn_instant(appointment_at))
    pdf.ln(2)
    _table(pdf, STEP_HEADINGS, STEP_WIDTHS, rows)
    return _pdf(pdf)


def _step_cells(number: int, step: StepRow) -> list[str]:
    require_aware(**{f"steps[{number - 1}].started_at": step.started_at, f"steps[{number - 1}].due_at": step.due_at,
                     f"steps[{number - 1}].completed_at": step.completed_at})
    return [str(number), step.name, step.handed_by, step.received_by, vn_instant(step.started_at),
            vn_instant(step.due_at), vn_instant(step.completed_at), verdict_label(step.verdict, running=RUNNING),
            step.note]


BOOK_HEADINGS = ("STT", "Mã hồ sơ", "Thủ tục hành chính", "Người nộp", "Kênh nộp", "Nhận hồ sơ", "Hẹn trả kết quả",
                 "Hoàn thành", "Trả kết quả", "Trạng thái", "Kết quả", "Ghi chú")
BOOK_WIDTHS = (8, 36, 34, 26, 14, 23, 23, 23, 23, 18, 16, 18)  # relative; in mm on a landscape page


def _book_instants(index: int, row: BookRow) -> tuple[dt.datetime | None, ...]:
    instants = (row.received_at, row.appointment_at, row.finished_at, row.delivered_at)
    require_aware(**{f"rows[{index}].{name}": value for name, value in
                     zip(("received_at", "appointment_at", "finished_at", "delivered_at"), instants, strict=True)})
    return instants


def form_07_tracking_book(issuer: Issuer, rows: list[BookRow], *, period_from: dt.date, period_to: dt.date) -> bytes:
    """Mẫu số 07, Sổ theo dõi hồ sơ: every dossier of the period, one row each, landscape."""
    if period_from > period_to:
        raise DocumentError(f"period_from ({period_from}) is after period_to ({period_to}).")
    cells = []
    for index, row in enumerate(rows):
        instants = _book_instants(index, row)
        cells.append([str(index + 1), row.code, row.procedure_name, row.applicant_name, row.channel,
                      *(vn_instant(value) for value in instants), row.status, verdict_label(row.verdict), row.note])
    pdf = _Page(created=dt.datetime.combine(period_to, dt.time(), VN_TZ), landscape=True,
                footer_text=f"Sổ theo dõi hồ sơ {vn_date(period_from)} - {vn_date(period_to)}")
    _header(pdf, issuer, form_no="07")
    period = f"từ ngày {vn_date(period_from)} đến ngày {vn_date(period_to)}"
    _title(pdf, "SỔ THEO DÕI HỒ SƠ", period.capitalize(), name=f"Sổ theo dõi hồ sơ {period}")
    _table(pdf, BOOK_HEADINGS, BOOK_WIDTHS, cells)
    if not rows:
        _paragraph(pdf, "Không có hồ sơ trong kỳ.", style="I", align="C")
    return _pdf(pdf)


# A cell a spreadsheet would run as a formula (=, +, -, @, or a tab/CR before one) is written as text: applicants'
# names and notes are typed by the public (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str) -> str:
    value = _text(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_instant(value: dt.datetime | None) -> str:
    # "05/03/2026 08:30" is the form a spreadsheet set to Vietnamese reads as a date and time.
    return "" if value is None else f"{value.astimezone(VN_TZ):%d/%m/%Y %H:%M}"


def tracking_book_csv(rows: list[BookRow]) -> bytes:
    """The tracking book as CSV: UTF-8 with a BOM (so spreadsheets read the Vietnamese right), CRLF line ends."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BOOK_HEADINGS)
    for index, row in enumerate(rows):
        instants = _book_instants(index, row)
        writer.writerow([str(index + 1), _csv_cell(row.code), _csv_cell(row.procedure_name),
                         _csv_cell(row.applicant_name), _csv_cell(row.channel),
                         *(_csv_instant(value) for value in instants), _csv_cell(row.status),
                         verdict_label(row.verdict), _csv_cell(row.note)])
    return out.getvalue().encode("utf-8-sig")


DRAFT_MARK = "DỰ THẢO"
DRAFT_NOTE = "(Dự thảo kết quả: chưa ký số, chưa có mã kết quả, chưa có giá trị pháp lý)"


def result_document(issuer: Issuer, dossier: DossierFacts, *, title: str, body: str, issued_at: dt.datetime,
                    signer_name: str, signer_title: str, verification: str = "", draft: bool = False) -> bytes:
    """A simple result (kết quả giải quyết, e.g. "GIẤY CHỨNG NHẬN ...") from a procedure's result template text;
    blank lines in the body separate paragraphs. ``verification`` (the result code and where to verify it) is
    printed under the signatures. ``draft``: a preview for the agency (dự thảo), marked so above the title."""
    require_aware(issued_at=issued_at)
    if not title.strip():
        raise DocumentError("title cannot be empty.")
    pdf = _new(issued_at, dossier)
    _header(pdf, issuer, form_no="", number=f"{dossier.code}/KQ", day=_local_day(issued_at))
    if draft:
        pdf.set_font(FONT, "B", TITLE_PT + 1)
        pdf.cell(0, 7, DRAFT_MARK, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _title(pdf, title.upper(), DRAFT_NOTE if draft else "", name=f"Dự thảo: {title}" if draft else title)
    for paragraph in _text(body).replace("\r\n", "\n").split("\n\n"):
        if paragraph.strip():
            _paragraph(pdf, paragraph.strip())
            pdf.ln(1.5)
    _signatures(pdf, Signer(signer_title, signer_name, "(Ký, ghi rõ họ tên và đóng dấu)"))
    if verification:
        pdf.ln(8)
        pdf.set_font(FONT, "", SMALL_PT)
        pdf.multi_cell(0, 5, _text(verification), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return _pdf(pdf)
