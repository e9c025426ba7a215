"""``{% payment_section dossier %}``: the payment part of a dossier page (applicant or back office), so the dossier
templates show payments without the dossier views knowing about them."""
from django import template

from egov.dossiers.models import Status
from egov.kernel import money
from egov.payments import queries
from egov.payments.models import PaymentNotification, Refund

register = template.Library()


@register.filter
def vnd(amount) -> str:
    """``{{ payment.amount|vnd }}`` → 200.000 (the column or label says VND); anything not a number as it is."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        return "" if amount is None else str(amount)
    return money.group_thousands(amount)


@register.inclusion_tag("payments/_section.html")
def payment_section(dossier, backoffice=False):
    payment = queries.current_request(dossier)
    context = {"payment": payment, "backoffice": backoffice,
               "fees_due": payment is not None and dossier.status == Status.FEES_DUE and payment.status == "pending"}
    if context["fees_due"] and not backoffice:
        context["wrong_amount"] = queries.wrong_amount_refunds(payment)
    if payment is not None and backoffice:
        context["refunds"] = list(Refund.objects.filter(request=payment))
        context["flagged"] = list(PaymentNotification.objects.filter(
            request__dossier=dossier, outcome__in=["mismatch", "double_payment", "unexpected_refund"]))
    return context
