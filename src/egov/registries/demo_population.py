"""Demo population (dân cư dùng thử): about 10,000 synthetic persons in households, and a demo eKYC client system.

Everything here is INVENTED. Names are drawn from real Vietnamese family, middle and given names; identification
numbers follow the rules (``rules.compose_personal_id``: province of birth registration, century and sex, year of
birth, six random digits) and are unique; residences are real communes from the database (post-2025 units) with a made
up street address; phone numbers have real mobile prefixes but random digits (so never point a real SMS gateway at a
demo database); email addresses use the reserved domains example.com/.net/.org (RFC 2606), so a demo mail never
reaches anyone.

Deterministic: one seeded ``random.Random`` drives every choice, person and household references (uuid) included, so
two loads into fresh databases give the same persons (only the ciphertexts differ: every seal has fresh nonces). The
plan depends only on the pinned administrative-unit package and ``REFERENCE_DATE`` (ages are computed at that date,
never at "today").

Households (hộ gia đình) of 1 to 6 living members: single persons, couples, parents with children, single parents,
and three generations (the head's parents; the head's father sometimes deceased, then linked as father but no longer
a member). Spouses point at each other; children at their father and mother. Ethnicity follows the region (mostly
Kinh; Tày, Nùng, Thái, H'Mông, Dao in the northern mountains, Mường around Phú Thọ and Thanh Hóa, Khmer and Hoa in
the Mekong delta and Ho Chi Minh City).

The fixed demo person, for the demo citizen account ``demo.citizen`` (Đỗ Thị Hà) and for trying the APIs:

* ``079303001234``: Đỗ Thị Hà, female, born 2003-03-15, birth registered in Ho Chi Minh City (079), living with her
  parents and younger brother at 123 Lê Lợi, Phường Bến Thành (26743), Thành phố Hồ Chí Minh; Kinh.
* her father ``036072004321`` Đỗ Văn Hùng (1972-08-20, born in Nam Định), her mother ``079176005678`` Nguyễn Thị Lan
  (1976-11-02), her brother ``079208009012`` Đỗ Minh Khang (2008-06-30).

The demo client system ``VN:GOV:000.00.00.H29:ekyc-demo`` has the published key ``DEMO_CLIENT_KEY`` and may verify
identities, release data for the purpose "Demo eKYC: opening a bank account" and read the population registry.

Loading goes through ``services.import_persons`` (every rule validated, sealed, one ledger event per batch). The load
is one transaction and is skipped when the demo citizen's person exists already (the marker). Refused in production.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from egov.kernel import crypto
from egov.kernel.access import SYSTEM
from egov.kernel.text import fold
from egov.registries import rules
from egov.registries.models import (
    PIN_FIELD, AdministrativeUnit, Household, LegacyUnitMapping, PersonalData, Person,
)

SEED = 20260101
REFERENCE_DATE = date(2026, 1, 1)  # ages are computed at this date: the plan never depends on the day it is loaded
TARGET_PERSONS = 10_000
BATCH_HOUSEHOLDS = 1_500           # households per import round (each round: a few import_persons calls)

DEMO_CITIZEN_USERNAME = "demo.citizen"
DEMO_CITIZEN_PIN = "079303001234"
DEMO_WARD_CODES = ("26740", "26743", "16681", "16690")  # the wards of the demo agencies (egov.registries.demo)
DEMO_CITIZEN_WARD = "26743"        # Phường Bến Thành, Thành phố Hồ Chí Minh

DEMO_CLIENT_IDENTIFIER = "VN:GOV:000.00.00.H29:ekyc-demo"
DEMO_CLIENT_AGENCY = "000.00.00.H29"
DEMO_CLIENT_NAME = "Demo eKYC (bank account opening)"
DEMO_CLIENT_KEY = "egk_demo-ekyc-2026-published-never-use-in-production"
DEMO_RELEASE_PURPOSE = "Demo eKYC: opening a bank account"
DEMO_CLIENT_GRANTS = {
    "population.verify": [],
    "population.release": [DEMO_RELEASE_PURPOSE],
    "registry.population.read": [],
}

MALE, FEMALE = rules.Sex.MALE.value, rules.Sex.FEMALE.value
LIVING, DECEASED = Person.Status.LIVING.value, Person.Status.DECEASED.value

# ---------------------------------------------------------------------------------------------------------------
# Name lists. Weights of Kinh family names are rounded shares of the Vietnamese population (Nguyễn about 38 %).
# Hoàng/Huỳnh and Vũ/Võ are one name written differently in the north and in the south.

KINH_FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng|Huỳnh", 5), ("Phan", 4.5), ("Vũ|Võ", 3.9),
    ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Đinh", 0.6),
    ("Trương", 0.6), ("Đào", 0.4), ("Trịnh", 0.4), ("Mai", 0.4), ("Lâm", 0.4), ("Hà", 0.4), ("Lương", 0.3),
    ("Cao", 0.3), ("Tạ", 0.2), ("Tô", 0.2), ("Châu", 0.2), ("Kiều", 0.1), ("La", 0.1), ("Thái", 0.1),
)
ETHNIC_FAMILY_NAMES = {
    "Tày": ("Nông", "Hoàng", "Lương", "Ma", "Hà", "Đàm", "Lục", "La"),
    "Nùng": ("Nông", "Hoàng", "Lương", "Vi", "Lý", "Chu", "Mã"),
    "Thái": ("Lò", "Lường", "Cầm", "Quàng", "Vi", "Lự", "Hà"),
    "Mường": ("Bùi", "Đinh", "Quách", "Hà", "Xa"),
    "H'Mông": ("Giàng", "Sùng", "Vàng", "Thào", "Lý", "Hầu", "Mùa", "Lầu"),
    "Dao": ("Triệu", "Bàn", "Đặng", "Lý", "Chảo"),
    "Khmer": ("Thạch", "Danh", "Sơn", "Kim", "Lâm", "Chau", "Trà"),
    "Hoa": ("Lâm", "Quách", "Trương", "Lưu", "Mã", "Hứa", "Tăng", "Diệp"),
}
MIDDLE_MALE_OLD = ("Hữu", "Đức", "Minh", "Quang", "Công", "Thành", "Xuân", "Ngọc", "Đình", "Quốc", "Trọng", "Thanh")
MIDDLE_MALE_NEW = ("Minh", "Đức", "Gia", "Hoàng", "Anh", "Quốc", "Tuấn", "Bảo", "Nhật", "Thành", "Hữu", "Trung",
                   "Khánh", "Đăng")
MIDDLE_FEMALE = ("Ngọc", "Thu", "Thanh", "Bích", "Kim", "Minh", "Phương", "Thùy", "Hồng", "Mai", "Khánh", "Bảo",
                 "Gia", "Quỳnh", "Diệu", "Tuyết", "Hải", "Cẩm")
GIVEN_MALE_OLD = ("Hùng", "Dũng", "Thắng", "Hải", "Sơn", "Tuấn", "Thành", "Minh", "Bình", "Cường", "Long", "Nam",
                  "Phong", "Quang", "Tâm", "Thanh", "Trung", "Vinh", "Hòa", "Lâm", "Tiến", "Toàn", "Hưng", "Lợi",
                  "Tài", "Phúc", "Hiếu", "Nghĩa", "Tùng", "Khải", "Chiến", "Định")
GIVEN_MALE_NEW = ("Anh", "Bảo", "Khang", "Khoa", "Kiên", "Huy", "Đạt", "Duy", "Hiếu", "Hoàng", "Minh", "Nam", "Phúc",
                  "Quân", "Tú", "Việt", "Vũ", "Long", "Phong", "Đăng", "Khôi", "Lâm", "Thịnh", "Trí", "Nhân", "An",
                  "Tín", "Hưng", "Sơn", "Thiện", "Khánh", "Nguyên")
GIVEN_FEMALE_OLD = ("Hoa", "Lan", "Hương", "Hằng", "Nga", "Loan", "Hạnh", "Hồng", "Mai", "Liên", "Thủy", "Thu", "Hà",
                    "Dung", "Tuyết", "Nhung", "Oanh", "Phượng", "Xuân", "Hiền", "Huệ", "Tâm", "Bích", "Yến", "Thoa",
                    "Vân", "Cúc", "Hậu", "Thanh", "Lý")
GIVEN_FEMALE_NEW = ("Anh", "Linh", "Trang", "Ngọc", "Thảo", "Vy", "My", "Hà", "Chi", "Giang", "Quỳnh", "Ngân",
                    "Phương", "Uyên", "Trâm", "Nhi", "Hân", "Vân", "An", "Thư", "Hương", "Yến", "Châu", "Diệp", "Lan",
                    "Mai", "Hạnh", "Nhung", "Tiên", "Ly")
HMONG_GIVEN = {MALE: ("Páo", "Chứ", "Dính", "Sử", "Chư", "Lử", "Tủa", "Pó", "Dế", "Súa"),
               FEMALE: ("Mỷ", "Sua", "Dua", "Pà", "Mai", "Dợ", "Chở", "Say", "Xúa", "Ly")}
KHMER_GIVEN = {MALE: ("Sa Rết", "Phol", "Sóc", "Sa Ron", "Khen", "Sa Vong", "Sươl", "Pha", "Rươm", "Thươl"),
               FEMALE: ("Sa Ri", "Sô Phia", "Sa Phia", "Srây", "Thi Da", "Sa Vân", "Mây", "Sóc Kha", "Đa Ni", "Nêl")}
STREETS = ("Lê Lợi", "Nguyễn Huệ", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt", "Nguyễn Trãi", "Lê Duẩn",
           "Quang Trung", "Phan Chu Trinh", "Điện Biên Phủ", "Lê Thánh Tôn", "Nguyễn Du", "Bà Triệu",
           "Trần Phú", "Hùng Vương", "Lê Lai", "Nguyễn Văn Cừ", "Võ Thị Sáu", "Phạm Ngũ Lão", "Nguyễn Thị Minh Khai",
           "Cách Mạng Tháng Tám", "Hoàng Văn Thụ", "Lạc Long Quân", "Âu Cơ", "Tôn Đức Thắng", "Phan Đình Phùng",
           "Lý Tự Trọng", "Nguyễn Đình Chiểu", "Trường Chinh", "Võ Văn Kiệt", "Ngô Quyền", "Lê Hồng Phong",
           "Nguyễn Thái Học", "Chu Văn An", "Trần Quang Khải", "Yết Kiêu", "Đinh Tiên Hoàng", "Hàm Nghi")
MOBILE_PREFIXES = ("032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098", "070", "076",
                   "077", "078", "079", "089", "090", "093", "081", "082", "083", "084", "085", "088", "091", "094",
                   "056", "058")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # reserved (RFC 2606): never delivered

# ---------------------------------------------------------------------------------------------------------------
# Places. Provinces are the 34 of 2025 (2-digit codes); weights are their populations in hundred thousands,
# approximately. Regions steer the spelling of names, the form of addresses and the ethnic mix.

PROVINCE_WEIGHTS = {
    "01": 87, "04": 5.7, "08": 18.6, "11": 6.4, "12": 4.8, "14": 13, "15": 17.8, "19": 18, "20": 8.1, "22": 14,
    "24": 36, "25": 40, "31": 47, "33": 36, "37": 41, "38": 43, "40": 38, "42": 16, "44": 19, "46": 12, "48": 31,
    "51": 21, "52": 36, "56": 22, "66": 33, "68": 38, "75": 45, "79": 140, "80": 32, "82": 42, "86": 42, "91": 49,
    "92": 42, "96": 26,
}
NORTH = frozenset({"01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37"})
SOUTH = frozenset({"75", "79", "80", "82", "86", "91", "92", "96"})
ETHNIC_MIX = (  # (provinces, ((ethnicity, weight), ...)); the last entry is the default
    (frozenset({"04", "08", "11", "12", "14", "15", "19", "20"}),
     (("Kinh", 45), ("Tày", 16), ("Thái", 12), ("H'Mông", 12), ("Nùng", 8), ("Dao", 5), ("Mường", 2))),
    (frozenset({"25", "37", "38"}), (("Kinh", 84), ("Mường", 12), ("Thái", 3), ("Dao", 1))),
    (frozenset({"40"}), (("Kinh", 88), ("Thái", 9), ("H'Mông", 3))),
    (frozenset({"52", "66", "68"}), (("Kinh", 84), ("Tày", 6), ("Nùng", 6), ("Mường", 2), ("Thái", 2))),
    (frozenset({"82", "86", "91", "92", "96"}), (("Kinh", 90), ("Khmer", 8), ("Hoa", 2))),
    (frozenset({"75", "79", "80"}), (("Kinh", 93), ("Hoa", 5), ("Khmer", 1), ("Nùng", 1))),
    (frozenset(), (("Kinh", 99), ("Hoa", 1))),
)


@dataclass(frozen=True)
class Place:
    """A current commune, its province, and the pre-2025 province its territory belonged to (birth registrations
    there carry that province's code)."""

    code: str
    name: str
    kind: str
    province_code: str
    province_name: str
    legacy_province_code: str


@dataclass
class PlannedPerson:
    key: int
    uid: uuid.UUID
    data: PersonalData
    household: int | None            # index into Plan.households; None for a deceased parent
    status: str = LIVING
    father: int | None = None
    mother: int | None = None
    spouse: int | None = None        # set when inserted (the partner is inserted before)
    spouse_back: int | None = None   # the partner inserted before, whose spouse link is set afterwards


@dataclass
class PlannedHousehold:
    code: str
    uid: uuid.UUID
    head: int
    members: list[int] = field(default_factory=list)


@dataclass
class Plan:
    persons: list[PlannedPerson]
    households: list[PlannedHousehold]


class UnitsMissing(RuntimeError):
    pass


def _refuse_in_production(what: str) -> None:
    if getattr(settings, "ENV", "development") == "production":
        raise ImproperlyConfigured(f"{what} is refused with EGOV_ENV=production: demo data is published.")


# ---------------------------------------------------------------------------------------------------------------
# The plan (pure: no database access once the places are given).

def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _birth_date(rng: random.Random, year: int) -> date:
    start = date(year, 1, 1)
    days = (min(date(year, 12, 31), REFERENCE_DATE - timedelta(days=1)) - start).days + 1
    return start + timedelta(days=rng.randrange(max(days, 1)))


class _Planner:
    def __init__(self, places: list[Place], legacy_province_names: dict[str, str], seed: int = SEED):
        self.rng = random.Random(seed)
        self.places = places
        self.by_code = {p.code: p for p in places}
        self.by_province: dict[str, list[Place]] = {}
        for place in places:
            self.by_province.setdefault(place.province_code, []).append(place)
        self.provinces = sorted(code for code in PROVINCE_WEIGHTS if code in self.by_province)
        self.province_weights = [PROVINCE_WEIGHTS[code] for code in self.provinces]
        self.demo_wards = [self.by_code[c] for c in DEMO_WARD_CODES if c in self.by_code]
        self.legacy_names = legacy_province_names
        self.legacy_codes = sorted(legacy_province_names)
        self.persons: list[PlannedPerson] = []
        self.households: list[PlannedHousehold] = []
        self.pins: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()

    # --- small choices -------------------------------------------------------------------------------------------
    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def place(self) -> Place:
        if self.demo_wards and self.rng.random() < 0.08:  # the demo agencies' wards get a share, for the demo's officers
            return self.rng.choice(self.demo_wards)
        province = self.rng.choices(self.provinces, weights=self.province_weights)[0]
        return self.rng.choice(self.by_province[province])

    def big_city_place(self) -> Place:
        return self.rng.choice(self.by_province.get(self.rng.choice(("79", "79", "01")), self.places))

    def ethnicity(self, place: Place) -> str:
        for provinces, mix in ETHNIC_MIX:
            if not provinces or place.province_code in provinces:
                return _weighted(self.rng, mix)
        return "Kinh"

    def family_name(self, ethnicity: str, place: Place) -> str:
        if ethnicity in ETHNIC_FAMILY_NAMES and self.rng.random() < 0.85:
            return self.rng.choice(ETHNIC_FAMILY_NAMES[ethnicity])
        name = _weighted(self.rng, KINH_FAMILY_NAMES)
        if "|" in name:
            north, south = name.split("|")
            south_share = 0.9 if place.province_code in SOUTH else 0.1 if place.province_code in NORTH else 0.5
            name = south if self.rng.random() < south_share else north
        return name

    def given_names(self, sex: str, year: int, ethnicity: str) -> str:
        rng = self.rng
        if ethnicity == "H'Mông":
            return f"{'A' if sex == MALE else rng.choice(('Thị', 'Mí'))} {rng.choice(HMONG_GIVEN[sex])}"
        if ethnicity == "Khmer":
            given = rng.choice(KHMER_GIVEN[sex])
            return f"Thị {given}" if sex == FEMALE and rng.random() < 0.5 else given
        modern = year >= 1985
        if sex == MALE:
            middle = "Văn" if rng.random() < (0.2 if modern else 0.6) else rng.choice(
                MIDDLE_MALE_NEW if modern else MIDDLE_MALE_OLD)
            given = rng.choice(GIVEN_MALE_NEW if modern else GIVEN_MALE_OLD)
        else:
            middle = "Thị" if rng.random() < (0.3 if modern else 0.85) else rng.choice(MIDDLE_FEMALE)
            given = rng.choice(GIVEN_FEMALE_NEW if modern else GIVEN_FEMALE_OLD)
        if modern and rng.random() < 0.12:  # four-word names: Nguyễn Ngọc Bảo Anh
            second = rng.choice(MIDDLE_FEMALE if sex == FEMALE else MIDDLE_MALE_NEW)
            if second not in (middle, given):
                middle = f"{middle} {second}"
        return f"{middle} {given}"

    def address(self, place: Place) -> str:
        rng, kind = self.rng, place.kind
        if kind == "phường":
            street, number = rng.choice(STREETS), rng.randint(1, 320)
            if place.province_code in SOUTH and rng.random() < 0.4:
                return f"{number}/{rng.randint(1, 60)} {street}"        # hẻm (alley), southern style
            if place.province_code in NORTH and rng.random() < 0.4:
                return f"Số {rng.randint(1, 80)} ngõ {number} {street}"  # ngõ (lane), northern style
            return f"{number} {street}"
        if kind == "đặc khu":
            return f"Khu phố {rng.randint(1, 12)}"
        hamlet = "Ấp" if place.province_code in SOUTH else "Thôn" if rng.random() < 0.7 else "Xóm"
        if rng.random() < 0.3:
            return f"Tổ {rng.randint(1, 15)}, {hamlet} {rng.randint(1, 20)}"
        return f"{hamlet} {rng.randint(1, 20)}"

    def pin(self, province3: str, born: date, sex: str) -> str:
        while True:
            number = rules.compose_personal_id(province3, born, sex, self.rng.randrange(1_000_000))
            if number not in self.pins:
                self.pins.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10_000_000):07d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def email(self, full_name: str, born: date) -> str:
        words = fold(full_name).replace("'", "").split()
        family, given = words[0], words[-1]
        initials = "".join(w[0] for w in words[:-1])
        base = self.rng.choice((f"{given}.{family}{born.year % 100:02d}", f"{given}{initials}{born.year}",
                                f"{family}{given}{self.rng.randint(1, 999)}"))
        domain = self.rng.choice(EMAIL_DOMAINS)
        address, n = f"{base}@{domain}", 1
        while address in self.emails:
            n += 1
            address = f"{base}{n}@{domain}"
        self.emails.add(address)
        return address

    # --- persons and households ----------------------------------------------------------------------------------
    def person(self, *, household: int | None, place: Place, address: str, sex: str, born: date, ethnicity: str,
               family: str | None = None, born_local: float = 0.7, status: str = LIVING,
               died: date | None = None) -> int:
        rng = self.rng
        family = family or self.family_name(ethnicity, place)
        full_name = f"{family} {self.given_names(sex, born.year, ethnicity)}"
        birth_province = place.legacy_province_code if rng.random() < born_local else rng.choice(self.legacy_codes)
        age = REFERENCE_DATE.year - born.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day))
        current, current_address = place, address
        if status == LIVING and 18 <= age <= 35 and place.province_code not in ("79", "01") and rng.random() < 0.15:
            current = self.big_city_place()          # tạm trú: works or studies in a big city
            current_address = self.address(current)
        phone = email = ""
        if status == LIVING and age >= 18 and rng.random() < (0.85 if age < 75 else 0.4):
            phone = self.phone()
        if status == LIVING and 18 <= age <= 60 and rng.random() < 0.45:
            email = self.email(full_name, born)
        data = PersonalData(
            personal_id_number=self.pin("0" + birth_province, born, sex), full_name=full_name, date_of_birth=born,
            sex=sex, nationality="VN", ethnicity=ethnicity,
            birth_registration_place=self.legacy_names.get(birth_province, ""),
            permanent_residence_unit=place.code, permanent_address=address,
            current_residence_unit=current.code, current_address=current_address,
            phone=phone, email=email, date_of_death=died)
        key = len(self.persons)
        self.persons.append(PlannedPerson(key=key, uid=self.uid(), data=data, household=household, status=status))
        if household is not None:
            self.households[household].members.append(key)
        return key

    def marry(self, first: int, second: int) -> None:
        """``second`` is inserted after ``first`` and points at it; ``first`` gets its link afterwards."""
        self.persons[second].spouse = first
        self.persons[first].spouse_back = second

    def new_household(self, place: Place) -> int:
        index = len(self.households)
        self.households.append(PlannedHousehold(code=f"{place.code}{index + 1:06d}", uid=self.uid(), head=-1))
        return index

    def children(self, household, place, address, ethnicity, family, father, mother, count, first_year) -> None:
        year = first_year
        for _ in range(count):
            if year >= REFERENCE_DATE.year:
                break
            sex = self.rng.choice((MALE, FEMALE))
            child = self.person(household=household, place=place, address=address, sex=sex,
                                born=_birth_date(self.rng, year), ethnicity=ethnicity, family=family, born_local=0.95)
            self.persons[child].father, self.persons[child].mother = father, mother
            year += self.rng.randint(2, 6)

    def couple(self, household, place, address, ethnicity, husband_year) -> tuple[int, int]:
        wife_year = min(husband_year + self.rng.randint(-2, 7), REFERENCE_DATE.year - 19)
        husband = self.person(household=household, place=place, address=address, sex=MALE,
                              born=_birth_date(self.rng, husband_year), ethnicity=ethnicity)
        wife = self.person(household=household, place=place, address=address, sex=FEMALE,
                           born=_birth_date(self.rng, wife_year), ethnicity=ethnicity)
        self.marry(husband, wife)
        return husband, wife

    def household(self) -> None:
        rng = self.rng
        place = self.place()
        address = self.address(place)
        ethnicity = self.ethnicity(place)
        index = self.new_household(place)
        shape = rng.choices(("single", "couple", "nuclear", "single_parent", "three_generations"),
                            weights=(12, 12, 45, 8, 23))[0]
        if shape == "single":
            head = self.person(household=index, place=place, address=address, sex=rng.choice((MALE, FEMALE)),
                               born=_birth_date(rng, rng.randint(1941, 2005)), ethnicity=ethnicity)
        elif shape == "couple":
            year = rng.randint(1990, 2001) if rng.random() < 0.5 else rng.randint(1945, 1970)
            husband, wife = self.couple(index, place, address, ethnicity, year)
            head = husband if rng.random() < 0.8 else wife
        elif shape == "nuclear":
            husband, wife = self.couple(index, place, address, ethnicity, rng.randint(1960, 1998))
            parents_year = max(self.persons[wife].data.date_of_birth.year,
                               self.persons[husband].data.date_of_birth.year)
            self.children(index, place, address, ethnicity, self.persons[husband].data.full_name.split()[0],
                          husband, wife, rng.choices((1, 2, 3), weights=(35, 50, 15))[0],
                          parents_year + rng.randint(19, 32))
            head = husband if rng.random() < 0.8 else wife
        elif shape == "single_parent":
            sex = FEMALE if rng.random() < 0.75 else MALE
            parent = self.person(household=index, place=place, address=address, sex=sex,
                                 born=_birth_date(rng, rng.randint(1970, 1995)), ethnicity=ethnicity)
            parent_data = self.persons[parent].data
            self.children(index, place, address, ethnicity, parent_data.full_name.split()[0],
                          parent if sex == MALE else None, parent if sex == FEMALE else None,
                          rng.choice((1, 2)), parent_data.date_of_birth.year + rng.randint(19, 32))
            head = parent
        else:  # three generations: the head's parents, the head's family
            head_year = rng.randint(1965, 1992)
            grandfather_year = head_year - rng.randint(24, 36)
            grandmother_year = min(grandfather_year + rng.randint(0, 6), head_year - 19)
            father_dead = rng.random() < 0.15
            died = None
            if father_dead:
                died = _birth_date(rng, rng.randint(max(grandfather_year + 55, 1990), REFERENCE_DATE.year - 1))
            grandfather = self.person(household=None if father_dead else index, place=place, address=address,
                                      sex=MALE, born=_birth_date(rng, grandfather_year), ethnicity=ethnicity,
                                      status=DECEASED if father_dead else LIVING, died=died)
            grandmother = self.person(household=index, place=place, address=address, sex=FEMALE,
                                      born=_birth_date(rng, grandmother_year), ethnicity=ethnicity)
            self.marry(grandfather, grandmother)
            family = self.persons[grandfather].data.full_name.split()[0]
            husband = self.person(household=index, place=place, address=address, sex=MALE,
                                  born=_birth_date(rng, head_year), ethnicity=ethnicity, family=family, born_local=0.9)
            self.persons[husband].father, self.persons[husband].mother = grandfather, grandmother
            wife = self.person(household=index, place=place, address=address, sex=FEMALE,
                               born=_birth_date(rng, min(head_year + rng.randint(-2, 6), REFERENCE_DATE.year - 19)),
                               ethnicity=ethnicity)
            self.marry(husband, wife)
            self.children(index, place, address, ethnicity, family, husband, wife, rng.choice((1, 2)),
                          max(head_year, self.persons[wife].data.date_of_birth.year) + rng.randint(20, 32))
            head = grandfather if not father_dead and rng.random() < 0.3 else husband
        self.households[index].head = head

    def demo_household(self) -> None:
        """The fixed, documented household of the demo citizen (see the module's docstring)."""
        place = self.by_code[DEMO_CITIZEN_WARD]
        address = "123 Lê Lợi"
        index = len(self.households)
        self.households.append(PlannedHousehold(code=f"{place.code}{0:06d}", uid=self.uid(), head=-1))
        hcm_name = self.legacy_names.get("79", "Thành phố Hồ Chí Minh")

        def fixed(pin, name, born, sex, phone="", email="", birth_place=hcm_name):
            self.pins.add(pin)
            if phone:
                self.phones.add(phone)
            if email:
                self.emails.add(email)
            key = len(self.persons)
            self.persons.append(PlannedPerson(key=key, uid=self.uid(), household=index, data=PersonalData(
                personal_id_number=pin, full_name=name, date_of_birth=born, sex=sex, ethnicity="Kinh",
                birth_registration_place=birth_place, permanent_residence_unit=place.code, permanent_address=address,
                current_residence_unit=place.code, current_address=address, phone=phone, email=email)))
            self.households[index].members.append(key)
            return key

        father = fixed("036072004321", "Đỗ Văn Hùng", date(1972, 8, 20), MALE, phone="0903123456",
                       birth_place=self.legacy_names.get("36", "Tỉnh Nam Định"))
        mother = fixed("079176005678", "Nguyễn Thị Lan", date(1976, 11, 2), FEMALE, phone="0913234567")
        ha = fixed(DEMO_CITIZEN_PIN, "Đỗ Thị Hà", date(2003, 3, 15), FEMALE, phone="0987654321",
                   email=f"{DEMO_CITIZEN_USERNAME}@demo.egov.localhost")
        brother = fixed("079208009012", "Đỗ Minh Khang", date(2008, 6, 30), MALE)
        self.marry(father, mother)
        for child in (ha, brother):
            self.persons[child].father, self.persons[child].mother = father, mother
        self.households[index].head = father


def plan_population(places: list[Place], legacy_province_names: dict[str, str], *, target: int = TARGET_PERSONS,
                    seed: int = SEED) -> Plan:
    """The whole demo population, decided before anything is written: same places and seed, same plan."""
    planner = _Planner(places, legacy_province_names, seed)
    planner.demo_household()
    while len(planner.persons) < target:
        planner.household()
    return Plan(persons=planner.persons, households=planner.households)


def read_places() -> tuple[list[Place], dict[str, str]]:
    """The current communes (with their province and pre-2025 province) and the pre-2025 provinces' names."""
    current, legacy = AdministrativeUnit.Generation.CURRENT, AdministrativeUnit.Generation.LEGACY
    communes = list(AdministrativeUnit.objects.filter(generation=current, level=AdministrativeUnit.Level.COMMUNE)
                    .order_by("code").values_list("code", "name", "kind", "parent__code", "parent__name"))
    if not communes:
        raise UnitsMissing("no administrative units: run `egov seed` (it loads them) before the demo population")
    legacy_names = dict(AdministrativeUnit.objects.filter(generation=legacy, level=AdministrativeUnit.Level.PROVINCE)
                        .values_list("code", "name"))
    origin: dict[str, str] = {}
    for new_code, via_commune, via_district in (
            LegacyUnitMapping.objects.filter(new_commune__isnull=False)
            .order_by("new_commune__code", "-is_default", "legacy_unit__code")
            .values_list("new_commune__code", "legacy_unit__parent__parent__code", "legacy_unit__parent__code")):
        origin.setdefault(new_code, via_commune or via_district)
    places = []
    for code, name, kind, province_code, province_name in communes:
        legacy_code = origin.get(code) or province_code
        if "0" + legacy_code not in rules.PIN_PROVINCE_CODES:
            legacy_code = province_code
        places.append(Place(code=code, name=name, kind=kind, province_code=province_code,
                            province_name=province_name, legacy_province_code=legacy_code))
    return places, legacy_names


# ---------------------------------------------------------------------------------------------------------------
# Loading

@dataclass
class LoadResult:
    loaded: bool          # False: the demo population was there already
    persons: int          # persons of the demo population (created now, or found)
    households: int
    deceased: int


def demo_citizen_person() -> Person | None:
    return Person.objects.filter(pin_index__in=crypto.blind_indexes(PIN_FIELD, DEMO_CITIZEN_PIN)).first()


def _phase(person: PlannedPerson, persons: list[PlannedPerson], memo: dict[int, int]) -> int:
    """Insertion order: a person comes after everyone their row points at (father, mother, earlier spouse)."""
    if person.key not in memo:
        refs = [r for r in (person.father, person.mother, person.spouse) if r is not None]
        memo[person.key] = 1 + max((_phase(persons[r], persons, memo) for r in refs), default=-1)
    return memo[person.key]


@transaction.atomic
def load_demo_population(*, target: int = TARGET_PERSONS, seed: int = SEED) -> LoadResult:
    """Create the demo population unless it is there (idempotent); one transaction."""
    _refuse_in_production("Loading the demo population")
    if demo_citizen_person() is not None:
        return LoadResult(loaded=False, persons=Person.objects.count(), households=Household.objects.count(),
                          deceased=Person.objects.filter(status=DECEASED).count())
    from egov.registries import services

    places, legacy_names = read_places()
    plan = plan_population(places, legacy_names, target=target, seed=seed)
    households = Household.objects.bulk_create(
        [Household(code=h.code, uid=h.uid) for h in plan.households], batch_size=2000)
    saved: dict[int, Person] = {}
    memo: dict[int, int] = {}
    for start in range(0, len(plan.households), BATCH_HOUSEHOLDS):
        batch = [key for h in plan.households[start:start + BATCH_HOUSEHOLDS] for key in h.members]
        # A deceased parent is no member: they come with the first child that points at them.
        keys = set(batch)
        for key in batch:
            for ref in (plan.persons[key].father, plan.persons[key].mother, plan.persons[key].spouse):
                if ref is not None and ref not in saved:
                    keys.add(ref)
        phases: dict[int, list[int]] = {}
        for key in sorted(keys):
            if key not in saved:
                phases.setdefault(_phase(plan.persons[key], plan.persons, memo), []).append(key)
        for phase in sorted(phases):
            rows = []
            for key in phases[phase]:
                planned = plan.persons[key]
                rows.append((planned.data, {
                    "uid": planned.uid, "status": planned.status,
                    "household": households[planned.household] if planned.household is not None else None,
                    "father": saved.get(planned.father), "mother": saved.get(planned.mother),
                    "spouse": saved.get(planned.spouse)}))
            label = f"demo population {start // BATCH_HOUSEHOLDS + 1}.{phase + 1}"
            for key, person in zip(phases[phase], services.import_persons(rows, caller=SYSTEM, batch_label=label),
                                   strict=True):
                saved[key] = person
    # The links that point forward: the partner inserted first, and each household's head. One prepared UPDATE run
    # with executemany (bulk_update compiles a CASE expression per batch: several times slower).
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(Person._meta.db_table)} SET {quote('spouse_id')} = %s WHERE {quote('id')} = %s",
            [(saved[p.spouse_back].pk, saved[p.key].pk) for p in plan.persons if p.spouse_back is not None])
        cursor.executemany(
            f"UPDATE {quote(Household._meta.db_table)} SET {quote('head_id')} = %s WHERE {quote('id')} = %s",
            [(saved[planned.head].pk, household.pk) for household, planned in zip(households, plan.households,
                                                                                   strict=True)])
    return LoadResult(loaded=True, persons=len(plan.persons), households=len(plan.households),
                      deceased=sum(1 for p in plan.persons if p.status == DECEASED))


def link_demo_citizen() -> bool:
    """Point the ``demo.citizen`` account at the demo person (verified identity). True when linked."""
    from django.contrib.auth import get_user_model

    _refuse_in_production("Linking the demo citizen")
    person = demo_citizen_person()
    user = get_user_model().objects.filter(username=DEMO_CITIZEN_USERNAME).first()
    if person is None or user is None:
        return False
    if user.person_id != person.pk or user.assurance_level != 2:
        get_user_model().objects.filter(person=person).exclude(pk=user.pk).update(person=None)
        # The demo citizen counts as verified at a desk: level 2, so every citizen page can be tried at once.
        user.person, user.assurance_level, user.assurance_method = person, 2, "desk"
        user.save(update_fields=["person", "assurance_level", "assurance_method"])
    return True


@transaction.atomic
def ensure_demo_client():
    """The demo eKYC client system with the published key ``DEMO_CLIENT_KEY``; reset to its known state. Returns
    (client, created)."""
    from egov.exchange import services as exchange
    from egov.exchange.models import ClientSystem
    from egov.kernel import ledger
    from egov.registries.models import Agency

    _refuse_in_production("The demo client system")
    agency = Agency.objects.filter(code=DEMO_CLIENT_AGENCY).first()
    if agency is None:
        raise UnitsMissing(f"agency {DEMO_CLIENT_AGENCY} is missing: load the demo agencies first")
    digest = exchange.key_digest(DEMO_CLIENT_KEY)
    client = ClientSystem.objects.filter(identifier=DEMO_CLIENT_IDENTIFIER).first()
    created = client is None
    if created:
        ClientSystem.objects.filter(key_digest=digest).delete()  # cannot exist unless hand-made; the key is ours
        client = ClientSystem.objects.create(identifier=DEMO_CLIENT_IDENTIFIER, name=DEMO_CLIENT_NAME, agency=agency,
                                             key_digest=digest, key_hint=DEMO_CLIENT_KEY[:10],
                                             verify_limit_per_minute=600)
        ledger.append("exchange.client_registered", partition=agency.code, actor=SYSTEM.actor, subject=client,
                      payload={"identifier": DEMO_CLIENT_IDENTIFIER, "demo": True})
    elif client.key_digest != digest or not client.is_active:
        client.key_digest, client.key_hint, client.is_active = digest, DEMO_CLIENT_KEY[:10], True
        client.save(update_fields=["key_digest", "key_hint", "is_active"])
    current = {service: sorted(purposes or []) for service, purposes in client.grants.values_list("service", "purposes")}
    if current != {service: sorted(purposes) for service, purposes in DEMO_CLIENT_GRANTS.items()}:
        exchange.set_grants(client, DEMO_CLIENT_GRANTS, caller=SYSTEM)
    return client, created
