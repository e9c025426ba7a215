"""Signals of the base registries, for components above them that must react in the same transaction.

``person_deceased(sender=Person, person, caller)``: sent inside ``services.register_death``'s transaction, so that
accounts are disabled atomically with the death registration (accounts connect to it; registries never import
accounts)."""
from django.dispatch import Signal

person_deceased = Signal()
