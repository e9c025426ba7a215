"""Service statistics (thống kê tình hình giải quyết thủ tục hành chính): roll-ups kept by a ledger consumer.

Two tables, both written only by ``services.py`` (the consumer ``monitoring.statistics`` and ``rebuild``):

* ``DossierFact``: one row per dossier, the few non-personal facts the figures need (agency, procedure, channel, the
  instants of reception, end, delivery, the instant it falls overdue, the outcome, the rating). The consumer rewrites
  it from the dossier's current state; the difference between the old and the new row is what changes in the
  monthly counters, so handling an event twice changes nothing (at-least-once safe).
* ``MonthlyFigures``: per agency, procedure, channel and month (Vietnam time), flow counters. Stocks (carried over,
  pending, overdue) are running sums of the flows up to a month: pending at the end of month M = received up to M −
  closed up to M. Reads never touch dossiers.
* ``AgencyMonthlyFigures``: the same counters per agency and month over every procedure and channel (with the
  online receptions counted apart), written with them in the same transaction: the page of a province or an agency
  reads a dozen rows per agency instead of one per procedure and channel (about 100 times fewer at a province's
  scale).
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    """How a dossier ended (empty while it is open)."""
    OPEN = "", _("Open")
    EARLY = "early", _("Processed early")
    ON_TIME = "on_time", _("Processed on time")
    LATE = "late", _("Processed late")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    STOPPED = "stopped", _("Processing stopped")
    REFUSED = "refused", _("Not received")


class DossierFact(models.Model):
    """Sự kiện thống kê của một hồ sơ: what the statistics know of one dossier (no personal data)."""
    dossier_id = models.BigIntegerField(unique=True)  # dossiers.Dossier's id; no foreign key into another component
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="+")
    channel = models.PositiveSmallIntegerField()
    received_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The appointment instant while the clock runs; null while it is paused (waiting for the applicant) or before
    # reception: a dossier is overdue from this instant on, until it ends.
    overdue_from = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    is_open = models.BooleanField(default=False)  # received and not ended: pending
    rating_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # Filed with at least one document taken from the applicant's data store ("once only", Circular 01/2023).
    reused = models.BooleanField(default=False, db_default=False)
    # Số hóa hồ sơ (Decision 766): every required component held electronically; the result issued electronically.
    # (Defaults in the database too: the bench's generator writes facts with plain INSERTs of the other columns.)
    digitised = models.BooleanField(default=False, db_default=False)
    result_digitised = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = _("dossier statistics fact")
        verbose_name_plural = _("dossier statistics facts")
        indexes = [models.Index(fields=["is_open", "agency", "overdue_from"], name="monitoring_fact_open")]


COUNTERS = ("received", "closed", "early", "on_time", "late", "withdrawn", "stopped", "refused", "delivered",
            "overdue_opened", "overdue_closed", "ratings", "rating_sum", "reused", "digitised", "results_digitised")


class MonthlyFigures(models.Model):
    """Số liệu theo tháng: flow counters per agency, procedure, channel and month (the first day of the month)."""
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="+")
    channel = models.PositiveSmallIntegerField()
    month = models.DateField()
    received = models.IntegerField(default=0)        # new in the month (reached status 2)
    closed = models.IntegerField(default=0)          # received dossiers that ended (processed, withdrawn, stopped)
    early = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    late = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)
    stopped = models.IntegerField(default=0)
    refused = models.IntegerField(default=0)         # not received (status 3)
    delivered = models.IntegerField(default=0)       # results returned
    overdue_opened = models.IntegerField(default=0)  # pending dossiers whose appointment falls in the month
    overdue_closed = models.IntegerField(default=0)  # ... that ended in the month (they were overdue until then)
    ratings = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    reused = models.IntegerField(default=0)          # received in the month, filed reusing digitised documents
    digitised = models.IntegerField(default=0)       # received in the month, every required component electronic
    results_digitised = models.IntegerField(default=0)  # processed in the month, the result issued electronically

    class Meta:
        verbose_name = _("monthly statistics")
        verbose_name_plural = _("monthly statistics")
        constraints = [models.UniqueConstraint(fields=["agency", "procedure", "channel", "month"],
                                               name="monitoring_monthly_unique")]
        indexes = [models.Index(fields=["month", "agency"], name="monitoring_monthly_month"),
                   models.Index(fields=["procedure", "month"], name="monitoring_monthly_procedure")]


class AgencyMonthlyFigures(models.Model):
    """Số liệu theo cơ quan và tháng: ``MonthlyFigures`` summed over procedures and channels, kept with them."""
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    received = models.IntegerField(default=0)
    received_online = models.IntegerField(default=0)  # of which through the online channel
    closed = models.IntegerField(default=0)
    early = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    late = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)
    stopped = models.IntegerField(default=0)
    refused = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    overdue_opened = models.IntegerField(default=0)
    overdue_closed = models.IntegerField(default=0)
    ratings = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    reused = models.IntegerField(default=0)
    digitised = models.IntegerField(default=0)
    results_digitised = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("monthly statistics of an agency")
        verbose_name_plural = _("monthly statistics of agencies")
        constraints = [models.UniqueConstraint(fields=["agency", "month"], name="monitoring_agency_monthly_unique")]
