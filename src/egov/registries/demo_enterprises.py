"""Demo enterprises (doanh nghiệp dùng thử), represented by the fixed persons of the demo population.

Everything here is INVENTED. The codes follow every rule of ``rules.parse_enterprise_code`` (check digit included) and
use sequence numbers far beyond those issued so far (0399…, 2999…), but a real enterprise could one day hold one: never
use them outside a demo. Addresses are real communes (post-2025 units) with made-up street numbers.

* ``0399000127`` Công ty TNHH Thiết kế Hà Đỗ, active, represented by the demo citizen Đỗ Thị Hà (``079303001234``,
  account ``demo.citizen``, at level 2 in the demo): she can open its business account.
* ``0399000342`` Công ty TNHH Quà tặng Hà Xinh, dissolved, also hers: opening its business account is refused.
* ``0399000455`` Công ty Cổ phần Thương mại Đỗ Hùng, active, represented by her father (``036072004321``).
* ``0399000568`` Công ty TNHH Ẩm thực Bến Thành, suspended, represented by her mother (``079176005678``).
* ``2999000122`` Công ty TNHH Nông sản Thành Vinh (Nghệ An), active, represented by her father.

Loaded through ``services.register_enterprise`` (and ``change_enterprise_status``), so each is a ledger event.
Idempotent: an enterprise whose code exists is left as it is. Needs the demo population. Refused in production.
"""
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from egov.kernel.access import SYSTEM
from egov.registries import queries, services
from egov.registries.models import Enterprise


@dataclass(frozen=True)
class DemoEnterprise:
    code: str
    name: str
    name_en: str
    short_name: str
    unit: str            # current commune code
    address: str
    representative: str  # personal identification number of a fixed demo person
    registered: datetime
    status: str = Enterprise.Status.ACTIVE


HA, HUNG, LAN = "079303001234", "036072004321", "079176005678"

DEMO_ENTERPRISES = (
    DemoEnterprise("0399000127", "Công ty TNHH Thiết kế Hà Đỗ", "Ha Do Design Company Limited", "Hà Đỗ Design",
                   "26743", "45 Lê Thánh Tôn", HA, datetime(2025, 9, 8, 2, 0, tzinfo=UTC)),
    DemoEnterprise("0399000342", "Công ty TNHH Quà tặng Hà Xinh", "Ha Xinh Gifts Company Limited", "Hà Xinh",
                   "26743", "12 Nguyễn Huệ", HA, datetime(2024, 3, 1, 2, 0, tzinfo=UTC),
                   status=Enterprise.Status.DISSOLVED),
    DemoEnterprise("0399000455", "Công ty Cổ phần Thương mại Đỗ Hùng", "Do Hung Trading Joint Stock Company",
                   "Đỗ Hùng Trading", "26740", "88 Đồng Khởi", HUNG, datetime(2015, 6, 15, 2, 0, tzinfo=UTC)),
    DemoEnterprise("0399000568", "Công ty TNHH Ẩm thực Bến Thành", "Ben Thanh Cuisine Company Limited",
                   "Ẩm thực Bến Thành", "26743", "7 Lê Lợi", LAN, datetime(2019, 11, 20, 2, 0, tzinfo=UTC),
                   status=Enterprise.Status.SUSPENDED),
    DemoEnterprise("2999000122", "Công ty TNHH Nông sản Thành Vinh", "Thanh Vinh Agricultural Products Company "
                   "Limited", "Nông sản Thành Vinh", "16681", "25 Quang Trung", HUNG,
                   datetime(2021, 4, 5, 2, 0, tzinfo=UTC)),
)


class PersonsMissing(RuntimeError):
    pass


@transaction.atomic
def load_demo_enterprises() -> int:
    """Register the demo enterprises that do not exist yet; return how many were created."""
    if getattr(settings, "ENV", "development") == "production":
        raise ImproperlyConfigured("Loading the demo enterprises is refused with EGOV_ENV=production.")
    created = 0
    for spec in DEMO_ENTERPRISES:
        if Enterprise.objects.filter(code=spec.code).exists():
            continue
        person = queries.person_by_pin(spec.representative)
        if person is None:
            raise PersonsMissing(f"demo person {spec.representative} is missing: load the demo population first")
        services.register_enterprise(
            caller=SYSTEM, code=spec.code, name=spec.name, name_en=spec.name_en, short_name=spec.short_name,
            head_office_unit=spec.unit, head_office_address=spec.address, legal_representative=person,
            registered_at=spec.registered)
        if spec.status != Enterprise.Status.ACTIVE:
            services.change_enterprise_status(spec.code, caller=SYSTEM, status=spec.status)
        created += 1
    return created
