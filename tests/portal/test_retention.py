# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""Retention: drafts nobody has touched for EGOV_DRAFT_RETENTION_DAYS days go with their files and folders; a
registration upload that can no longer be linked goes too; whatever is recent stays."""
import datetime as dt
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from egov.govstack import registration_services
from egov.kernel.ledger_models import Event
from egov.portal import apply_services
from egov.portal.apply_models import Draft, DraftFile
from tests.dossiers.conftest import agency, calendar_2026, citizen, make_version  # noqa: F401

pytestmark = pytest.mark.django_db


def _draft(owner, version, key: str, *, days_old: int) -> Draft:
    draft = Draft(owner=owner, procedure_version=version, idempotency_key=key)
    draft.seal({"raw": {"purpose": "du học"}})
    draft.save()
    apply_services.save_step(draft, files=[("to_khai", b"%PDF-1.4 scan", "application/pdf")])
    Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - dt.timedelta(days=days_old))
    return draft


def test_drafts_untouched_past_their_retention_go_with_their_files_and_recent_ones_stay(citizen, agency,
                                                                                        calendar_2026, settings):
    settings.DRAFT_RETENTION_DAYS = 90
    version = make_version(agency)
    old, recent = _draft(citizen, version, "k-old", days_old=91), _draft(citizen, version, "k-recent", days_old=89)
    old_file = DraftFile.objects.get(draft=old).file.name
    call_command("egov_retention")
    assert list(Draft.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not DraftFile.objects.filter(draft_id=old.pk).exists()
    assert not default_storage.exists(old_file) and not default_storage.exists(f"drafts/{old.uid}")
    assert default_storage.exists(DraftFile.objects.get(draft=recent).file.name)
    event = Event.objects.get(event_type="portal.drafts_purged")
    assert event.partition == "platform" and event.payload == {"drafts": 1, "files": 1, "older_than_days": 90}


def test_a_retention_of_zero_keeps_every_draft(citizen, agency, calendar_2026, settings):
    settings.DRAFT_RETENTION_DAYS = 0
    _draft(citizen, make_version(agency), "k-ancient", days_old=3650)
    call_command("egov_retention")
    assert Draft.objects.count() == 1 and not Event.objects.filter(event_type="portal.drafts_purged").exists()


def test_registration_uploads_that_can_no_longer_be_linked_are_deleted():
    expired = default_storage.save(f"{registration_services.STAGED_DIR}/expired", ContentFile(b"%PDF old"))
    fresh = default_storage.save(f"{registration_services.STAGED_DIR}/fresh", ContentFile(b"%PDF new"))
    long_ago = (timezone.now() - dt.timedelta(seconds=registration_services.STAGED_MAX_AGE + 7200)).timestamp()
    os.utime(default_storage.path(expired), (long_ago, long_ago))
    assert registration_services.purge_expired_staged() == 1
    assert not default_storage.exists(expired) and default_storage.exists(fresh)


def test_a_negative_number_of_days_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="0 or more"):
        call_command("egov_retention", days=-1)


def test_my_drafts_says_how_long_an_untouched_draft_is_kept(client, citizen, settings):
    from tests.dossiers.conftest import signed_in

    settings.DRAFT_RETENTION_DAYS = 90
    signed_in(client, citizen)
    assert "A draft you leave untouched for 90 days is deleted, with its files." in client.get("/apply/drafts/").content.decode()
    settings.DRAFT_RETENTION_DAYS = 0
    assert "untouched" not in client.get("/apply/drafts/").content.decode()
