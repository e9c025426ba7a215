"""The second factor of the signed-in user (django-otp's middleware), with their verified device read by hand."""
from contextlib import suppress

from django.apps import apps
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware
from django_otp.models import Device

from egov.kernel.db import read_one


class OTPMiddleware(BaseOTPMiddleware):
    """django-otp's middleware: an officer's every request reads the device that verified their sign-in, and the
    ORM's building of that select by key cost as much as the database's work on it. Same rules: a device of another
    user or unconfirmed counts as none (the base class checks)."""

    def _device_from_persistent_id(self, persistent_id: str):
        persistent_id = self._normalize_persistent_id(persistent_id)
        with suppress(ValueError, LookupError):
            model_label, device_id = persistent_id.rsplit("/", 1)
            device_class = apps.get_model(*model_label.split("."))
            if issubclass(device_class, Device):
                return read_one(device_class, "t.id = %s", [int(device_id)])
        return None
