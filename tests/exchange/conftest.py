"""Exchange fixtures."""
import pytest


@pytest.fixture(autouse=True)
def english():
    """Assertions read the English source messages (Vietnamese, the default, is checked by the i18n tests)."""
    from django.utils import translation

    with translation.override("en"):
        yield
