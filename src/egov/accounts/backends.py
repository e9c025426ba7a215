"""Who signs in with a username and password, and who the signed-in user of a request is."""
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from egov.kernel.db import read_one


class AccountBackend(ModelBackend):
    """Django's ModelBackend (passwords, active accounts, permissions), with the signed-in user read by hand: it is
    read on every signed-in request, and the ORM's building of that select by key cost as much as the database's work
    on it."""

    def get_user(self, user_id):
        from egov.accounts.models import User

        try:
            user_id = User._meta.pk.to_python(user_id)
        except ValidationError:  # a damaged session's value: no user
            return None
        user = read_one(User, "t.id = %s", [user_id])
        return user if user is not None and self.user_can_authenticate(user) else None
