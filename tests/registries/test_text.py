"""Vietnamese folding for search: diacritics and đ/Đ disappear, case does not matter."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.kernel.text import fold

VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
vietnamese_text = st.text(alphabet=VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + " -,.0123456789")


@pytest.mark.parametrize(("text", "expected"), [
    ("Đà Nẵng", "da nang"),
    ("Thành phố Hồ Chí Minh", "thanh pho ho chi minh"),
    ("ĐẶC KHU CÔN ĐẢO", "dac khu con dao"),
    ("  Phường   Hồng Hà ", "phuong hong ha"),
    ("Tỉnh Bà Rịa - Vũng Tàu", "tinh ba ria - vung tau"),
    ("Thừa Thiên Huế", "thua thien hue"),
    ("Nghệ An", "nghe an"),
    ("Xã Phước Kiển", "xa phuoc kien"),
    ("", ""),
])
def test_fold_examples(text, expected):
    assert fold(text) == expected


def test_decomposed_and_composed_input_fold_alike():
    import unicodedata

    assert fold(unicodedata.normalize("NFD", "Đà Nẵng")) == fold(unicodedata.normalize("NFC", "Đà Nẵng")) == "da nang"


@given(st.text())
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


@given(vietnamese_text)
def test_fold_of_vietnamese_is_ascii(text):
    assert fold(text).isascii()


@given(vietnamese_text)
def test_fold_ignores_case(text):
    assert fold(text.upper()) == fold(text.lower()) == fold(text)


@given(vietnamese_text)
def test_fold_keeps_word_count(text):
    # Folding changes letters, never where words start and end.
    assert len(fold(text).split()) == len(text.split())
