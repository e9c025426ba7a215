"""Demo agencies: the Government Office, ministries, and two provinces with departments and commune People's
Committees, tied to real post-2025 administrative units.

Codes: 000.00.00.G22 (Government Office), 000.00.00.G12 (Ministry of Finance), 000.00.18.G12 (its tax department),
000.00.00.H29 (Ho Chi Minh City) are the codes DOMAIN.md cites; 000.00.00.H41 (Nghệ An) appears in the public edXML
samples of the national document exchange. Every other code below is PLAUSIBLE BUT UNVERIFIED: right format, invented
number (marked "unverified"). Replace them with the Decision 20/2020 list before relying on them. Province codes of
this form follow the alphabetical order of the 63 pre-2025 provinces (H29 Hồ Chí Minh, H41 Nghệ An), as far as seen.

Addresses and phone numbers are INVENTED FOR THE DEMO: real streets in the right post-2025 ward and province, house
numbers and phone numbers made up (landline area codes 024 Hà Nội, 028 Hồ Chí Minh, 0238 Nghệ An). They show what a
procedure page's "where to go" looks like; never give them to a citizen as an agency's real one-stop desk.
"""
from dataclasses import dataclass

from egov.registries import services
from egov.registries.models import AdministrativeUnit, Agency


@dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    name_en: str
    parent: str | None = None
    unit: str | None = None  # current administrative unit code (province 2 digits, commune 5 digits)
    address: str = ""  # the one-stop desk (bộ phận một cửa): number, street, ward, province
    phone: str = ""


DEMO_AGENCIES = [
    DemoAgency("000.00.00.G22", "Văn phòng Chính phủ", "Government Office",
               address="Số 1 Hoàng Hoa Thám, phường Ba Đình, Thành phố Hà Nội", phone="024 3845 0101"),
    DemoAgency("000.00.00.G12", "Bộ Tài chính", "Ministry of Finance",
               address="Số 28 Trần Hưng Đạo, phường Cửa Nam, Thành phố Hà Nội", phone="024 3826 0102"),
    DemoAgency("000.00.18.G12", "Cục Thuế", "Department of Taxation", parent="000.00.00.G12",
               address="Số 123 Lò Đúc, phường Hai Bà Trưng, Thành phố Hà Nội", phone="024 3971 0103"),
    DemoAgency("000.00.00.G09", "Bộ Công an", "Ministry of Public Security",  # unverified code
               address="Số 44 Yết Kiêu, phường Cửa Nam, Thành phố Hà Nội", phone="024 3942 0104"),
    DemoAgency("000.00.00.G17", "Bộ Nội vụ", "Ministry of Home Affairs",  # unverified code
               address="Số 8 Tôn Thất Thuyết, phường Từ Liêm, Thành phố Hà Nội", phone="024 6282 0105"),
    DemoAgency("000.00.00.G18", "Bộ Tư pháp", "Ministry of Justice",  # unverified code
               address="Số 60 Trần Phú, phường Ba Đình, Thành phố Hà Nội", phone="024 6273 0106"),
    # Ho Chi Minh City (province 79 after 2025).
    DemoAgency("000.00.00.H29", "Ủy ban nhân dân Thành phố Hồ Chí Minh", "Ho Chi Minh City People's Committee",
               unit="79", address="Số 86 Lê Thánh Tôn, phường Sài Gòn, Thành phố Hồ Chí Minh", phone="028 3829 0201"),
    DemoAgency("000.00.12.H29", "Sở Tư pháp Thành phố Hồ Chí Minh", "Ho Chi Minh City Department of Justice",
               parent="000.00.00.H29", unit="79",  # unverified code
               address="Số 141 Pasteur, phường Xuân Hòa, Thành phố Hồ Chí Minh", phone="028 3822 0202"),
    DemoAgency("000.00.15.H29", "Sở Xây dựng Thành phố Hồ Chí Minh", "Ho Chi Minh City Department of Construction",
               parent="000.00.00.H29", unit="79",  # unverified code
               address="Số 60 Trương Định, phường Xuân Hòa, Thành phố Hồ Chí Minh", phone="028 3932 0203"),
    DemoAgency("000.00.61.H29", "Ủy ban nhân dân phường Sài Gòn", "Sai Gon Ward People's Committee",
               parent="000.00.00.H29", unit="26740",  # unverified code
               address="Số 45 Lê Duẩn, phường Sài Gòn, Thành phố Hồ Chí Minh", phone="028 3823 0204"),
    DemoAgency("000.00.62.H29", "Ủy ban nhân dân phường Bến Thành", "Ben Thanh Ward People's Committee",
               parent="000.00.00.H29", unit="26743",  # unverified code
               address="Số 92 Nguyễn Trãi, phường Bến Thành, Thành phố Hồ Chí Minh", phone="028 3925 0205"),
    # Nghệ An (province 40, not merged in 2025).
    DemoAgency("000.00.00.H41", "Ủy ban nhân dân tỉnh Nghệ An", "Nghe An Provincial People's Committee", unit="40",
               address="Số 3 Trường Thi, phường Trường Vinh, tỉnh Nghệ An", phone="0238 384 0401"),
    DemoAgency("000.00.12.H41", "Sở Tư pháp tỉnh Nghệ An", "Nghe An Department of Justice",
               parent="000.00.00.H41", unit="40",  # unverified code
               address="Số 6 Quang Trung, phường Thành Vinh, tỉnh Nghệ An", phone="0238 384 0402"),
    DemoAgency("000.00.14.H41", "Sở Y tế tỉnh Nghệ An", "Nghe An Department of Health",
               parent="000.00.00.H41", unit="40",  # unverified code
               address="Số 18 Trường Thi, phường Trường Vinh, tỉnh Nghệ An", phone="0238 356 0403"),
    DemoAgency("000.00.61.H41", "Ủy ban nhân dân phường Thành Vinh", "Thanh Vinh Ward People's Committee",
               parent="000.00.00.H41", unit="16681",  # unverified code
               address="Số 1 Lê Hồng Phong, phường Thành Vinh, tỉnh Nghệ An", phone="0238 359 0404"),
    DemoAgency("000.00.62.H41", "Ủy ban nhân dân phường Trường Vinh", "Truong Vinh Ward People's Committee",
               parent="000.00.00.H41", unit="16690",  # unverified code
               address="Số 28 Phong Định Cảng, phường Trường Vinh, tỉnh Nghệ An", phone="0238 385 0405"),
]


class UnitsMissing(RuntimeError):
    pass


def load_demo_agencies() -> int:
    """Create the demo agencies that do not exist yet (through the service, so each gets its ``agency.created``
    event); leave existing ones as they are, since an administrator may have edited them, except that an empty address
    or phone is filled in. Returns how many were created. Needs the administrative units
    (``services.load_administrative_units``) first."""
    created = 0
    for spec in DEMO_AGENCIES:  # parents come before their children in the list
        existing = Agency.objects.filter(code=spec.code).first()
        if existing is not None:
            _fill_in_contact(existing, spec)
            continue
        unit = None
        if spec.unit:
            unit = AdministrativeUnit.objects.filter(generation=AdministrativeUnit.Generation.CURRENT,
                                                     code=spec.unit).first()
            if unit is None:
                raise UnitsMissing(f"administrative unit {spec.unit} is missing: load the administrative units first")
        parent = Agency.objects.get(code=spec.parent) if spec.parent else None
        services.save_agency(Agency(code=spec.code, name=spec.name, name_en=spec.name_en, parent=parent,
                                    administrative_unit=unit, address=spec.address, phone=spec.phone))
        created += 1
    return created


def _fill_in_contact(agency: Agency, spec: DemoAgency) -> None:
    # Demo databases seeded before the demo agencies had an address and a phone get them on the next seed. Only empty
    # fields are filled, so a value an administrator typed stays; a later seed finds nothing empty and writes nothing.
    missing = {field: getattr(spec, field) for field in ("address", "phone") if not getattr(agency, field)}
    if any(missing.values()):
        for field, value in missing.items():
            setattr(agency, field, value)
        services.save_agency(agency)
