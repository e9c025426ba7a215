"""Text helpers shared by every component.

``fold`` makes Vietnamese text searchable without diacritics: "Đà Nẵng" and "da nang" fold to the same key.
Unicode decomposition (NFD) separates most Vietnamese letters into a base letter and combining marks, which are then
dropped; but đ/Đ (U+0111/U+0110, "d with stroke") is a letter of its own that does not decompose, so it is mapped
explicitly. Folding is for search keys only: never show folded text to a user.
"""
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
