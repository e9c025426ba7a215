"""The demo procedure catalogue (catalogue/demo.yaml), loaded by `egov seed --demo` after the demo agencies."""
from pathlib import Path

from egov.procedures import services

DEMO_CATALOGUE = Path(__file__).resolve().parent / "catalogue" / "demo.yaml"


def load_demo_catalogue() -> str:
    """Import the demo catalogue (idempotent: a second run finds every version unchanged); returns one summary line."""
    report = services.import_catalogue(DEMO_CATALOGUE, actor="seed")
    return (f"Demo procedure catalogue: {len(report.created)} versions created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged.")
