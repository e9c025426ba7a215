"""The session, the signed-in user and their second-factor device are read by hand on every request
(egov.accounts.sessions, egov.accounts.backends, egov.accounts.middleware): the same answers as Django's own."""
import datetime as dt

import pytest
from django.contrib.auth import get_user
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.utils import timezone

from egov.accounts.backends import AccountBackend
from egov.accounts.models import Role
from egov.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_saved_session_reads_back_and_an_expired_one_is_empty(make_user):
    store = SessionStore()
    store["answer"] = {"đ": [1, 2]}
    store.save()
    again = SessionStore(store.session_key)
    assert again["answer"] == {"đ": [1, 2]}

    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None


def test_the_user_read_by_hand_equals_the_orms_and_an_inactive_or_unknown_one_is_none(make_user):
    user = make_user("lan", Role.CITIZEN, first_name="Lan", last_name="Trần Thị", phone="0901234567")
    read = AccountBackend().get_user(user.pk)
    assert read == user
    assert {f.attname: getattr(read, f.attname) for f in type(user)._meta.concrete_fields} == \
        {f.attname: getattr(user.__class__.objects.get(pk=user.pk), f.attname) for f in type(user)._meta.concrete_fields}
    assert AccountBackend().get_user(user.pk + 1000) is None
    assert AccountBackend().get_user("not a number") is None
    user.is_active = False
    user.save()
    assert AccountBackend().get_user(user.pk) is None


def test_a_request_carries_its_signed_in_user(make_user):
    user = make_user("minh", Role.CITIZEN)
    store = SessionStore()
    store.update({"_auth_user_id": str(user.pk), "_auth_user_backend": "egov.accounts.backends.AccountBackend",
                  "_auth_user_hash": user.get_session_auth_hash()})
    store.save()
    request = RequestFactory().get("/")
    request.session = SessionStore(store.session_key)
    assert get_user(request) == user
    request.session = SessionStore(store.session_key)
    request.session["_auth_user_hash"] = "changed password"  # the password changed since: signed out
    assert not get_user(request).is_authenticated
