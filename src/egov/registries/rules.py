"""Pure rules of the base registries (no I/O).

Organisation codes (mã định danh điện tử của cơ quan, tổ chức), Decision 20/2020/QĐ-TTg: ``DDD.CC.BB.XNN``, read right to
left. ``XNN`` is the level-1 unit (``G`` + 2 digits for ministries and central agencies, ``H`` + 2 digits for provinces),
``BB`` the level-2 unit inside it, ``CC`` level 3, ``DDD`` level 4; zeros mean "no unit at this level". So
``000.00.00.H29`` is Ho Chi Minh City itself (level 1) and ``000.00.18.G12`` a level-2 unit of the Ministry of Finance.
"""
import re
from dataclasses import dataclass
from datetime import time

from django.db.models import TextChoices
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


# ---------------------------------------------------------------------------------------------------------------
# Personal identification number (số định danh cá nhân, Decree 137/2015 and Circular 59/2021): 12 digits, no check
# digit. Digits 1-3: province code of birth registration; digit 4: century and sex; digits 5-6: the last two digits of
# the year of birth; digits 7-12: random.

# The 63 pre-2025 province codes (001-096). The 34 provinces of Decision 19/2025 kept codes from this list, and
# numbers issued before 2025 keep their old prefix for life, so every one of these stays valid.
PIN_PROVINCE_CODES = frozenset({
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024", "025",
    "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045", "046", "048",
    "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070", "072", "074", "075",
    "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
})
PIN_EXAMPLE = "001099012345"


class Sex(TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class InvalidPersonalId(ValueError):
    """A personal identification number breaks a rule; ``rule`` names it, ``message`` explains (translatable)."""

    def __init__(self, rule: str, message):
        super().__init__(str(message))
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class PersonalId:
    number: str
    province_code: str
    sex: str
    century_start: int
    year_of_birth_2: str   # the last two digits of the year of birth

    def fits_year(self, year: int) -> bool:
        return self.century_start <= year < self.century_start + 100 and year % 100 == int(self.year_of_birth_2)


def century_sex_digit(year: int, sex: str) -> str:
    """Digit 4: 0/1 for 1900-1999 (male/female), 2/3 for 2000-2099, 4/5 for 2100-2199, 6/7, 8/9 after."""
    century_index = year // 100 - 19
    if not 0 <= century_index <= 4:
        raise InvalidPersonalId("century", _("Years of birth from 1900 to 2399 can be encoded; got %(year)d.")
                                % {"year": year})
    return str(century_index * 2 + (1 if sex == Sex.FEMALE else 0))


def parse_personal_id(raw: str) -> PersonalId:
    """Check the form of a number and read what it encodes; raise InvalidPersonalId naming the rule broken."""
    number = (raw or "").strip().replace(" ", "")
    if not number:
        raise InvalidPersonalId("required", _("Enter the 12-digit personal identification number, e.g. %(example)s.")
                                % {"example": PIN_EXAMPLE})
    if not (number.isascii() and number.isdigit()):
        raise InvalidPersonalId("digits", _("A personal identification number has digits only; “%(number)s” has "
                                            "other characters.") % {"number": number})
    if len(number) != 12:
        raise InvalidPersonalId("length", _("A personal identification number has exactly 12 digits; “%(number)s” "
                                            "has %(count)d.") % {"number": number, "count": len(number)})
    province = number[:3]
    if province not in PIN_PROVINCE_CODES:
        raise InvalidPersonalId("province", _("Digits 1-3 must be the code of the province where the birth was "
                                              "registered (001-096); %(code)s is not a province code.")
                                % {"code": province})
    digit = int(number[3])
    return PersonalId(number=number, province_code=province, sex=Sex.FEMALE if digit % 2 else Sex.MALE,
                      century_start=1900 + (digit // 2) * 100, year_of_birth_2=number[4:6])


def check_personal_id(raw: str, *, date_of_birth=None, sex: str | None = None) -> PersonalId:
    """Parse the number and check it against the person's date of birth and sex when given."""
    pid = parse_personal_id(raw)
    if date_of_birth is not None:
        year = date_of_birth.year
        if not pid.century_start <= year < pid.century_start + 100:
            raise InvalidPersonalId("century", _("Digit 4 (%(digit)s) encodes a birth in %(start)d-%(end)d, but the "
                                                 "date of birth is in %(year)d.")
                                    % {"digit": pid.number[3], "start": pid.century_start,
                                       "end": pid.century_start + 99, "year": year})
        if year % 100 != int(pid.year_of_birth_2):
            raise InvalidPersonalId("birth_year", _("Digits 5-6 (%(digits)s) must be the last two digits of the year "
                                                    "of birth (%(year)d).")
                                    % {"digits": pid.year_of_birth_2, "year": year})
    if sex is not None and sex != pid.sex:
        raise InvalidPersonalId("sex", _("Digit 4 (%(digit)s) encodes a %(encoded)s person, but the sex given is "
                                         "%(given)s.") % {"digit": pid.number[3], "encoded": Sex(pid.sex).label,
                                                          "given": Sex(sex).label if sex in Sex.values else sex})
    return pid


def personal_id_field_problem(number: str, *, sex: str | None = None) -> str:
    """Why a number typed in an e-form's personal ID field cannot be right: a rule of the number broken, or (``sex``,
    the field's hint: the father's, the wife's…) a 4th digit of the other sex; "" when it can be."""
    try:
        pid = parse_personal_id(number)
    except InvalidPersonalId as exc:
        return str(exc.message)
    if sex == Sex.MALE and pid.sex == Sex.FEMALE:
        return str(_("Digit 4 (%(digit)s) is a woman's: this field takes a man's number.") % {"digit": pid.number[3]})
    if sex == Sex.FEMALE and pid.sex == Sex.MALE:
        return str(_("Digit 4 (%(digit)s) is a man's: this field takes a woman's number.") % {"digit": pid.number[3]})
    return ""


def compose_personal_id(province_code: str, date_of_birth, sex: str, random_part: int) -> str:
    """The number a birth registration allocates: province, century/sex, year, and six random digits."""
    if province_code not in PIN_PROVINCE_CODES:
        raise InvalidPersonalId("province", _("%(code)s is not a province code for birth registration.")
                                % {"code": province_code})
    if not 0 <= random_part <= 999_999:
        raise ValueError("random_part must have at most six digits")
    number = f"{province_code}{century_sex_digit(date_of_birth.year, sex)}{date_of_birth.year % 100:02d}" \
             f"{random_part:06d}"
    return check_personal_id(number, date_of_birth=date_of_birth, sex=sex).number


# ---------------------------------------------------------------------------------------------------------------
# Digital registries (cơ sở dữ liệu chuyên ngành): a registry's code and definition.

REGISTRY_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,48}[a-z0-9]$"
REGISTRY_VERSION_PATTERN = r"^[0-9]+(\.[0-9]+){0,2}$"
POPULATION_REGISTRY = "population"


def registry_right(code: str, action: str) -> str:
    """The right a client system needs: ``registry.<code>.read`` or ``registry.<code>.write``."""
    return f"registry.{code}.{action}"


class InvalidDefinition(ValueError):
    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def check_registry_definition(code: str, version: str, schema: dict, searchable_fields: list[str],
                              person_field: str = "") -> None:
    """A registry definition that records can be validated against: raise InvalidDefinition naming the field."""
    if not re.match(REGISTRY_CODE_PATTERN, code or ""):
        raise InvalidDefinition("code", _("A registry code is 3-50 lower-case letters, digits and hyphens, starting "
                                          "with a letter, e.g. ho-kinh-doanh."))
    if code == POPULATION_REGISTRY:
        raise InvalidDefinition("code", _("“population” is the national population registry's code."))
    if not re.match(REGISTRY_VERSION_PATTERN, version or ""):
        raise InvalidDefinition("version", _("A version is numbers separated by dots, e.g. 1.0."))
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(schema.get("properties"), dict) \
            or not schema["properties"]:
        raise InvalidDefinition("schema", _("The schema must describe an object: {\"type\": \"object\", "
                                            "\"properties\": {…}} with at least one property."))
    properties = schema["properties"]
    for name in searchable_fields:
        if name not in properties:
            raise InvalidDefinition("searchable_fields", _("Searchable field “%(name)s” is not a property of the "
                                                           "schema.") % {"name": name})
        if not isinstance(properties[name], dict) or properties[name].get("type") not in ("string", "integer", "number",
                                                                                         "boolean"):
            raise InvalidDefinition("searchable_fields", _("Searchable field “%(name)s” must be a string, number or "
                                                           "boolean: objects and lists cannot be looked up exactly.")
                                    % {"name": name})
    if person_field and person_field not in properties:
        raise InvalidDefinition("person_field", _("The field holding the person's identification number "
                                                  "(“%(name)s”) is not a property of the schema.") % {"name": person_field})


# ---------------------------------------------------------------------------------------------------------------
# Enterprise code (mã số doanh nghiệp, Law on Enterprises 2020 art. 29): the enterprise's tax code. 10 digits: digits
# 1-2 the province where the code was first issued (tax-office numbering, not the administrative unit codes, and kept
# when the head office moves), digits 3-9 a sequence (never all zero), digit 10 a check digit over the first nine.
# A dependent unit (branch, representative office) has 13: its enterprise's 10, a hyphen, and 001-999.
# The check digit: 10 - (sum of digit × weight) mod 11 with weights 31 29 23 19 17 13 7 5 3; a sum divisible by 11
# would need "10", so no valid code has such a sum. [V] Circular 105/2020/TT-BTC's structure, as implemented by
# python-stdnum (stdnum.vn.mst) and checked here against published codes (0100109106, 0300588569).

ENTERPRISE_CODE_EXAMPLE = "0100109106"
ENTERPRISE_CHECK_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


class InvalidEnterpriseCode(ValueError):
    """An enterprise code breaks a rule; ``rule`` names it, ``message`` explains (translatable)."""

    def __init__(self, rule: str, message):
        super().__init__(str(message))
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class EnterpriseCode:
    enterprise: str      # the 10 digits
    unit: str = ""       # "" for the enterprise itself, "001".."999" for a dependent unit

    def __str__(self) -> str:
        return f"{self.enterprise}-{self.unit}" if self.unit else self.enterprise

    @property
    def is_dependent_unit(self) -> bool:
        return bool(self.unit)


def enterprise_check_digit(first_nine: str) -> str | None:
    """The tenth digit of a code starting with these nine digits, or None when no digit fits (sum divisible by 11)."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, ENTERPRISE_CHECK_WEIGHTS, strict=True)) % 11
    return None if remainder == 0 else str(10 - remainder)


def parse_enterprise_code(raw: str) -> EnterpriseCode:
    """Check an enterprise code and split it; raise InvalidEnterpriseCode naming the rule broken.

    Spaces and dots that people type to group digits are ignored; a 13-digit code may be typed without its hyphen.
    ``str()`` of the result is the one stored form: ``0100109106`` or ``0100109106-001``."""
    text = (raw or "").strip()
    compact = text.replace(" ", "").replace(".", "")
    if not compact:
        raise InvalidEnterpriseCode("required", _("Enter the enterprise code (the 10-digit tax code), e.g. "
                                                  "%(example)s.") % {"example": ENTERPRISE_CODE_EXAMPLE})
    digits = compact.replace("-", "", 1) if len(compact) > 10 and compact[10:11] == "-" else compact
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidEnterpriseCode("characters", _("An enterprise code has digits only (a branch's code: 10 digits, "
                                                    "a hyphen and 3 digits); “%(code)s” has other characters.")
                                    % {"code": text})
    if len(digits) not in (10, 13):
        raise InvalidEnterpriseCode("length", _("An enterprise code has 10 digits (13 for a branch); “%(code)s” has "
                                                "%(count)d.") % {"code": text, "count": len(digits)})
    if digits[2:9] == "0000000":
        raise InvalidEnterpriseCode("sequence", _("Digits 3-9 of an enterprise code are its sequence number and "
                                                  "cannot all be zero."))
    expected = enterprise_check_digit(digits[:9])
    if digits[9] != expected:
        raise InvalidEnterpriseCode("check_digit", _("The last digit of %(code)s does not match the others: the code "
                                                     "was probably mistyped. Check it against the business "
                                                     "registration certificate.") % {"code": digits[:10]})
    if len(digits) == 13 and digits[10:] == "000":
        raise InvalidEnterpriseCode("unit", _("A branch's number (the last 3 digits) runs from 001 to 999, never "
                                              "000."))
    return EnterpriseCode(enterprise=digits[:10], unit=digits[10:])


def compose_enterprise_code(first_nine: str) -> str | None:
    """The valid 10-digit code that starts with these nine digits, or None when none does."""
    check = enterprise_check_digit(first_nine)
    return None if check is None else first_nine + check


# Status changes of an enterprise: suspension (tạm ngừng kinh doanh) ends by resuming; dissolution (giải thể) is final.
ENTERPRISE_TRANSITIONS = frozenset({
    ("active", "suspended"), ("suspended", "active"), ("active", "dissolved"), ("suspended", "dissolved"),
})


class ForbiddenEnterpriseTransition(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.rule = "transition"
        self.message = message


def check_enterprise_transition(current: str, new: str) -> None:
    """Raise ForbiddenEnterpriseTransition (saying why) when the status change is not allowed."""
    if (current, new) not in ENTERPRISE_TRANSITIONS:
        if current == "dissolved":
            message = _("A dissolved enterprise cannot change its status: dissolution is final.")
        else:
            message = _("An enterprise cannot go from “%(current)s” to “%(new)s”.") % {"current": current, "new": new}
        raise ForbiddenEnterpriseTransition(message)
