"""Reads of the data-sharing component."""
from egov.exchange.models import ClientSystem


def clients_granted(service: str) -> list[ClientSystem]:
    """The client systems holding a grant of ``service`` (e.g. ``registry.ho-kinh-doanh.read``)."""
    return list(ClientSystem.objects.filter(grants__service=service).select_related("agency").order_by("identifier"))
