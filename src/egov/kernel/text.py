"""Text helpers shared by every component.

``fold`` makes Vietnamese text searchable without diacritics: "Đà Nẵng" and "da nang" fold to the same key.
Unicode decomposition (NFD) separates most Vietnamese letters into a base letter and combining marks, which are then
dropped; but đ/Đ (U+0111/U+0110, "d with stroke") is a letter of its own that does not decompose, so it is mapped
explicitly. Folding is for search keys only: never show folded text to a user.
"""
import re
import unicodedata

# Letters with no canonical decomposition that users type without their stroke. Keys are lower case because the text
# is case-folded before this mapping is applied.
_UNDECOMPOSABLE = str.maketrans({"đ": "d", "ð": "d"})


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_UNDECOMPOSABLE)


def fold(text: str) -> str:
    """Lower-case, strip diacritics (tone and vowel marks) and map đ to d; collapse runs of white space.

    >>> fold("  Thành phố  Đà Nẵng ")
    'thanh pho da nang'
    """
    folded = _fold_once(text)
    # A second pass makes the function idempotent for the rare characters whose case folding yields a letter that
    # decomposes again (e.g. U+0130 "İ" folds to "i" + combining dot above). Vietnamese never needs it; it is cheap.
    folded = _fold_once(folded)
    return " ".join(folded.split())


# Thứ tự chữ cái tiếng Việt: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y (f j w z in foreign names). A
# letter's vowel mark (breve, circumflex, horn) makes it another letter; a tone mark only breaks ties, in dictionary
# order: none, huyền, hỏi, ngã, sắc, nặng.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_MARKS = {"\u0306": "ă", "\u0302": "^", "\u031b": "+"}
_MARKED = {("a", "ă"): "ă", ("a", "^"): "â", ("e", "^"): "ê", ("o", "^"): "ô", ("o", "+"): "ơ", ("u", "+"): "ư"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_key(text: str) -> tuple:
    """A sort key that orders Vietnamese words as a Vietnamese dictionary does ("Đông" after "Dương" and before
    "Tây"; "Ân" after "An"), whatever the case and however the text is normalised. Characters outside the alphabet
    (digits, spaces, punctuation) sort before the letters, by code point."""
    letters, tones = [], []
    for char in unicodedata.normalize("NFD", text.casefold()):
        if char in _TONES:
            if tones:
                tones[-1] = _TONES[char]
        elif char in _LETTER_MARKS and letters:
            letters[-1] = _MARKED.get((letters[-1], _LETTER_MARKS[char]), letters[-1])
        elif not unicodedata.combining(char):
            letters.append(char)
            tones.append(0)
    primary = tuple((1, _ALPHABET.index(c)) if c in _ALPHABET else (0, ord(c)) for c in letters)
    return primary, tuple(tones)


def megabytes(size: int) -> str:
    """A file size in MB (of 1,048,576 bytes, as the limits are set) for a message, in the active language's number
    format: "10" for the 10 MB limit, "31,5" in Vietnamese for a 33,000,000-byte file. Never rounds a file over a
    limit down to the limit: 10 MB and one byte reads "10,1"."""
    import math

    from django.utils.formats import number_format

    tenths = math.ceil(size * 10 / 2**20)
    return number_format(tenths // 10 if tenths % 10 == 0 else tenths / 10, decimal_pos=None if tenths % 10 == 0 else 1)


# C0 and C1 control characters but tab, line feed and carriage return: what no text typed by a person holds, and what
# breaks storage and exports (NUL in a PostgreSQL text column) or a terminal reading a log (ESC).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTERS.search(text) is not None
