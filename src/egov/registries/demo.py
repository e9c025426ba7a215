"""Demo agencies: the Government Office, ministries, and two provinces with departments and commune People's
Committees, tied to real post-2025 administrative units.

Codes: 000.00.00.G22 (Government Office), 000.00.00.G12 (Ministry of Finance), 000.00.18.G12 (its tax department),
000.00.00.H29 (Ho Chi Minh City) are the codes DOMAIN.md cites; 000.00.00.H41 (Nghệ An) appears in the public edXML
samples of the national document exchange. Every other code below is PLAUSIBLE BUT UNVERIFIED: right format, invented
number (marked "unverified"). Replace them with the Decision 20/2020 list before relying on them. Province codes of
this form follow the alphabetical order of the 63 pre-2025 provinces (H29 Hồ Chí Minh, H41 Nghệ An), as far as seen.
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


DEMO_AGENCIES = [
    DemoAgency("000.00.00.G22", "Văn phòng Chính phủ", "Government Office"),
    DemoAgency("000.00.00.G12", "Bộ Tài chính", "Ministry of Finance"),
    DemoAgency("000.00.18.G12", "Cục Thuế", "Department of Taxation", parent="000.00.00.G12"),
    DemoAgency("000.00.00.G09", "Bộ Công an", "Ministry of Public Security"),  # unverified code
    DemoAgency("000.00.00.G17", "Bộ Nội vụ", "Ministry of Home Affairs"),  # unverified code
    DemoAgency("000.00.00.G18", "Bộ Tư pháp", "Ministry of Justice"),  # unverified code
    # Ho Chi Minh City (province 79 after 2025).
    DemoAgency("000.00.00.H29", "Ủy ban nhân dân Thành phố Hồ Chí Minh", "Ho Chi Minh City People's Committee",
               unit="79"),
    DemoAgency("000.00.12.H29", "Sở Tư pháp Thành phố Hồ Chí Minh", "Ho Chi Minh City Department of Justice",
               parent="000.00.00.H29", unit="79"),  # unverified code
    DemoAgency("000.00.15.H29", "Sở Xây dựng Thành phố Hồ Chí Minh", "Ho Chi Minh City Department of Construction",
               parent="000.00.00.H29", unit="79"),  # unverified code
    DemoAgency("000.00.61.H29", "Ủy ban nhân dân phường Sài Gòn", "Sai Gon Ward People's Committee",
               parent="000.00.00.H29", unit="26740"),  # unverified code
    DemoAgency("000.00.62.H29", "Ủy ban nhân dân phường Bến Thành", "Ben Thanh Ward People's Committee",
               parent="000.00.00.H29", unit="26743"),  # unverified code
    # Nghệ An (province 40, not merged in 2025).
    DemoAgency("000.00.00.H41", "Ủy ban nhân dân tỉnh Nghệ An", "Nghe An Provincial People's Committee", unit="40"),
    DemoAgency("000.00.12.H41", "Sở Tư pháp tỉnh Nghệ An", "Nghe An Department of Justice",
               parent="000.00.00.H41", unit="40"),  # unverified code
    DemoAgency("000.00.14.H41", "Sở Y tế tỉnh Nghệ An", "Nghe An Department of Health",
               parent="000.00.00.H41", unit="40"),  # unverified code
    DemoAgency("000.00.61.H41", "Ủy ban nhân dân phường Thành Vinh", "Thanh Vinh Ward People's Committee",
               parent="000.00.00.H41", unit="16681"),  # unverified code
    DemoAgency("000.00.62.H41", "Ủy ban nhân dân phường Trường Vinh", "Truong Vinh Ward People's Committee",
               parent="000.00.00.H41", unit="16690"),  # unverified code
]


class UnitsMissing(RuntimeError):
    pass


def load_demo_agencies() -> int:
    """Create the demo agencies that do not exist yet (through the service, so each gets its ``agency.created``
    event); leave existing ones as they are, since an administrator may have edited them. Returns how many were
    created. Needs the administrative units (``services.load_administrative_units``) first."""
    created = 0
    for spec in DEMO_AGENCIES:  # parents come before their children in the list
        if Agency.objects.filter(code=spec.code).exists():
            continue
        unit = None
        if spec.unit:
            unit = AdministrativeUnit.objects.filter(generation=AdministrativeUnit.Generation.CURRENT,
                                                     code=spec.unit).first()
            if unit is None:
                raise UnitsMissing(f"administrative unit {spec.unit} is missing: load the administrative units first")
        parent = Agency.objects.get(code=spec.parent) if spec.parent else None
        services.save_agency(Agency(code=spec.code, name=spec.name, name_en=spec.name_en, parent=parent,
                                    administrative_unit=unit))
        created += 1
    return created
