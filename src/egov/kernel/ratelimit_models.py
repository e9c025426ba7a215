"""Rate-limit counters kept in the database, so a limit holds across every web process and machine."""
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["RateCounter"]


class RateCounter(models.Model):
    """Hits of one key (e.g. ``verify:client:7``) in one fixed window starting at ``window_start`` (epoch seconds)."""

    key = models.CharField(_("key"), max_length=100)
    window_start = models.BigIntegerField(_("window start (epoch seconds)"))
    hits = models.IntegerField(_("hits"), default=0)

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="kernel_ratecounter_key_window")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.hits}"
