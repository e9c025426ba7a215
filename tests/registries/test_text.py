"""Vietnamese folding for search: diacritics and đ/Đ disappear, case does not matter."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import unicodedata

from egov.kernel.text import fold, vietnamese_key

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


# --- Vietnamese alphabetical order -----------------------------------------------------------------------------------

VIETNAMESE_ALPHABET = "a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y".split()


def test_the_letters_sort_in_the_vietnamese_alphabets_order():
    shuffled = sorted(VIETNAMESE_ALPHABET, key=lambda letter: unicodedata.normalize("NFD", letter)[::-1])
    assert sorted(shuffled, key=vietnamese_key) == VIETNAMESE_ALPHABET
    assert sorted([letter.upper() for letter in shuffled], key=vietnamese_key) == [
        letter.upper() for letter in VIETNAMESE_ALPHABET]


def test_tones_only_break_ties_in_dictionary_order():
    assert sorted(["má", "mạ", "mà", "mã", "ma", "mả", "mai"], key=vietnamese_key) == [
        "ma", "mà", "mả", "mã", "má", "mạ", "mai"]
    assert sorted(["Phường An Hội Tây", "Phường Ân Thi", "Phường An Hội Đông", "Xã Dương Minh Châu"],
                  key=vietnamese_key) == ["Phường An Hội Đông", "Phường An Hội Tây", "Phường Ân Thi",
                                          "Xã Dương Minh Châu"]


TONE_MARKS = "\u0300\u0309\u0303\u0301\u0323"


@given(vietnamese_text)
def test_the_key_ignores_case_and_normalisation_and_tones_only_break_ties(text):
    key = vietnamese_key(text)
    assert key == vietnamese_key(unicodedata.normalize("NFD", text)) == vietnamese_key(text.upper())
    toneless = "".join(c for c in unicodedata.normalize("NFD", text) if c not in TONE_MARKS)
    assert vietnamese_key(toneless)[0] == key[0]


@pytest.mark.parametrize("size, english, vietnamese", [
    (10 * 2**20, "10", "10"), (10 * 2**20 + 1, "10.1", "10,1"), (33_000_000, "31.5", "31,5"), (1, "0.1", "0,1")])
def test_a_file_size_reads_in_megabytes_of_the_limit_in_the_users_number_format(size, english, vietnamese):
    from django.utils import translation

    from egov.kernel.text import megabytes

    with translation.override("en"):
        assert megabytes(size) == english
    with translation.override("vi"):
        assert megabytes(size) == vietnamese


@given(st.integers(min_value=1, max_value=2**40))
def test_a_size_over_a_whole_megabyte_limit_never_reads_as_the_limit(size):
    from egov.kernel.text import megabytes

    limit = (size // 2**20) * 2**20
    if size > limit > 0:
        assert megabytes(size) != megabytes(limit)


@given(st.text())
def test_control_characters_are_found_but_tab_and_line_ends_are_text(text):
    from egov.kernel.text import has_control_characters

    controls = {chr(c) for c in [*range(0x20), *range(0x7f, 0xa0)]} - {"\t", "\n", "\r"}
    assert has_control_characters(text) == any(ch in controls for ch in text)
