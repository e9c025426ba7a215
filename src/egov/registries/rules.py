"""Pure rules of the base registries (no I/O).

Organisation codes (mã định danh điện tử của cơ quan, tổ chức), Decision 20/2020/QĐ-TTg: ``DDD.CC.BB.XNN``, read right to
left. ``XNN`` is the level-1 unit (``G`` + 2 digits for ministries and central agencies, ``H`` + 2 digits for provinces),
``BB`` the level-2 unit inside it, ``CC`` level 3, ``DDD`` level 4; zeros mean "no unit at this level". So
``000.00.00.H29`` is Ho Chi Minh City itself (level 1) and ``000.00.18.G12`` a level-2 unit of the Ministry of Finance.
"""
from dataclasses import dataclass
from datetime import time

from django.utils.translation import gettext_lazy as _

EXAMPLE_CODE = "000.00.18.G12"


class InvalidCode(ValueError):
    """The organisation code is malformed; ``message`` says exactly what is wrong (translatable)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class OrganisationCode:
    level1: str  # "G12", "H29"
    level2: str  # "00".."99"
    level3: str  # "00".."99"
    level4: str  # "000".."999"

    def __str__(self) -> str:
        return f"{self.level4}.{self.level3}.{self.level2}.{self.level1}"

    @property
    def level(self) -> int:
        """1 for the ministry/province itself, 4 for the deepest unit."""
        if self.level4 != "000":
            return 4
        if self.level3 != "00":
            return 3
        if self.level2 != "00":
            return 2
        return 1

    @property
    def parent(self) -> "OrganisationCode | None":
        """The code of the unit directly above, or None for a level-1 unit."""
        match self.level:
            case 4:
                return OrganisationCode(self.level1, self.level2, self.level3, "000")
            case 3:
                return OrganisationCode(self.level1, self.level2, "00", "000")
            case 2:
                return OrganisationCode(self.level1, "00", "00", "000")
        return None

    def extends(self, ancestor: "OrganisationCode") -> bool:
        """True when this unit lies below ``ancestor`` (deeper, and equal on every level the ancestor sets)."""
        if self.level <= ancestor.level:
            return False
        mine = (self.level1, self.level2, self.level3, self.level4)
        theirs = (ancestor.level1, ancestor.level2, ancestor.level3, ancestor.level4)
        return mine[: ancestor.level] == theirs[: ancestor.level]


def _digits(part: str, width: int) -> bool:
    return len(part) == width and part.isascii() and part.isdigit()


def parse_code(raw: str) -> OrganisationCode:
    """Parse and validate an organisation code; raise InvalidCode with a specific message.

    Surrounding spaces are ignored and the level-1 letter may be typed in lower case.
    """
    code = (raw or "").strip()
    if not code:
        raise InvalidCode(_("Enter an organisation code, e.g. %(example)s.") % {"example": EXAMPLE_CODE})
    parts = code.split(".")
    if len(parts) != 4:
        raise InvalidCode(
            _("An organisation code has four parts separated by dots (DDD.CC.BB.XNN, e.g. %(example)s); "
              "“%(code)s” has %(count)d.") % {"example": EXAMPLE_CODE, "code": code, "count": len(parts)})
    level4, level3, level2, level1 = parts
    level1 = level1.upper()
    if not (len(level1) == 3 and level1[0] in "GH" and _digits(level1[1:], 2)):
        raise InvalidCode(
            _("The last part (level 1) must be G or H followed by two digits, e.g. G12 for a ministry or H29 for a "
              "province; got “%(part)s”.") % {"part": parts[3]})
    if not _digits(level2, 2):
        raise InvalidCode(_("The third part (level 2) must be exactly two digits; got “%(part)s”.") % {"part": level2})
    if not _digits(level3, 2):
        raise InvalidCode(_("The second part (level 3) must be exactly two digits; got “%(part)s”.") % {"part": level3})
    if not _digits(level4, 3):
        raise InvalidCode(_("The first part (level 4) must be exactly three digits; got “%(part)s”.") % {"part": level4})
    if level3 != "00" and level2 == "00":
        raise InvalidCode(_("A level-3 unit (second part %(part)s) needs a level-2 unit: the third part cannot be 00.")
                          % {"part": level3})
    if level4 != "000" and (level3 == "00" or level2 == "00"):
        raise InvalidCode(_("A level-4 unit (first part %(part)s) needs level-2 and level-3 units: the second and "
                            "third parts cannot be 00.") % {"part": level4})
    return OrganisationCode(level1, level2, level3, level4)


def check_child_code(child: str, parent: str) -> None:
    """A child agency's code must extend its parent's: raise InvalidCode saying how it does not."""
    child_code, parent_code = parse_code(child), parse_code(parent)
    if child_code.level <= parent_code.level:
        raise InvalidCode(
            _("%(child)s is a level-%(child_level)d unit, so it cannot be under %(parent)s, a level-%(parent_level)d "
              "unit: a child's code must be at a deeper level than its parent's.")
            % {"child": child_code, "child_level": child_code.level, "parent": parent_code,
               "parent_level": parent_code.level})
    if not child_code.extends(parent_code):
        suffix = ".".join(reversed([parent_code.level1, parent_code.level2, parent_code.level3,
                                    parent_code.level4][: parent_code.level]))
        raise InvalidCode(
            _("A unit under %(parent)s must have a code ending in .%(suffix)s (it extends its parent's code); "
              "got %(child)s.") % {"parent": parent_code, "suffix": suffix, "child": child_code})


class InvalidOfficeHours(ValueError):
    """``field`` names the time that is out of order, so a form can show the message beside it."""

    def __init__(self, message, field: str):
        super().__init__(str(message))
        self.message = message
        self.field = field


def check_office_hours(morning_opens: time, morning_closes: time, afternoon_opens: time, afternoon_closes: time) -> None:
    """Giờ làm việc: morning_opens < morning_closes ≤ afternoon_opens < afternoon_closes."""
    if not morning_opens < morning_closes:
        raise InvalidOfficeHours(_("The morning session must close after it opens."), "morning_closes")
    if not morning_closes <= afternoon_opens:
        raise InvalidOfficeHours(_("The afternoon session cannot open before the morning session closes."),
                                 "afternoon_opens")
    if not afternoon_opens < afternoon_closes:
        raise InvalidOfficeHours(_("The afternoon session must close after it opens."), "afternoon_closes")
