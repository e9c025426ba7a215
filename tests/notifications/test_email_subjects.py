"""An email's subject arrives as it was written: long Vietnamese subjects, folded over several lines of encoded words,
keep every space (Python's own folder lost one, "tiếp nhận" arriving as "tiếpnhận"), sent through a real SMTP server."""
from email.header import decode_header, make_header

import pytest

from egov.notifications import backends

SUBJECTS = [
    "Hồ sơ 000.00.14.H20-261201-0001 của bạn đã được tiếp nhận: thủ tục Đăng ký khai sinh, hẹn trả kết quả ngày "
    "03/12/2026",
    # Each of these lost a space on Python 3.12.1 before the subject was encoded by egov itself.
    "Hồ sơ 000.00.14.H20-261201-0001 đã được tiếp nhận, hẹn trả kết quả 09/03/2026 — thủ tục Cấp giấy phép xây "
    "dựng nhà ở riêng lẻ",
    "Hồ sơ 000.00.61.H29-260302-0007 (Đăng ký khai sinh) cần bổ sung giấy tờ trước ngày 15/12/2026",
    "Kết quả hồ sơ 000.00.12.H41-261115-0123 đã sẵn sàng: Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh, mời bạn "
    "nhận tại bộ phận một cửa",
    "Hồ sơ 000.00.61.H29-260302-0007 bị từ chối: thủ tục Cấp Phiếu lý lịch tư pháp không thuộc thẩm quyền của cơ "
    "quan đã chọn",
    "Hồ sơ đã nộp",  # short: one line
    "Dossier 000.00.61.H29-260302-0007 was received, with its result due on 09/03/2026: procedure Birth registration "
    "at the ward",  # ASCII only: folded at its spaces, not encoded
    # ASCII, a little over a line with its field name: Python's folder moved it whole to a continuation line, which a
    # reader unfolds with a leading blank (" Dossier …").
    "Dossier 000.00.12.H29-260302-0001 received, result due 09/03/2026 10:00",
]


def received_subject_lines(raw: bytes) -> list[bytes]:
    """The Subject field as it came over SMTP: its first line and the folded lines (starting with a blank) after it."""
    lines = raw.split(b"\r\n")
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(b"subject:"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] not in (b" ", b"\t"))
    return lines[start:end]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_long_vietnamese_subject_arrives_with_every_space(smtp_server, subject):
    backends.send_email(to="hung.citizen@example.org", subject=subject, text="Nội dung thư.")

    ((_, message),) = smtp_server.received
    assert str(message["Subject"]) == subject  # as a modern reader (email.policy.default) decodes it
    lines = received_subject_lines(smtp_server.raw[0])
    unfolded = b"".join(lines).decode("ascii").split(":", 1)[1].removeprefix(" ")  # the space after the colon
    assert str(make_header(decode_header(unfolded))) == subject  # and as an older one (RFC 2047 decoding) does
    assert all(len(line) <= 78 for line in lines)  # RFC 5322's line length, so no relay folds it again
    assert message.get_content().strip() == "Nội dung thư."
