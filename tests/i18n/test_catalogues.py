"""Vietnamese is the default language and English is complete: no user-facing message may be left untranslated.

The catalogue is extracted afresh from the code (in a copy of the source tree, so the working tree is never touched)
and compared with the committed Vietnamese catalogue: a new or changed message without a translation fails here.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import egov.settings

SOURCE = Path(egov.settings.__file__).resolve().parent


def _parse_po(path: Path) -> dict[str, tuple[str, bool, str]]:
    """msgctxt\x04msgid -> (msgstr, fuzzy, msgid_plural). Plural forms count as translated when every msgstr[n] is
    filled; msgstr is then msgstr[0]."""
    entries: dict[str, tuple[str, bool, str]] = {}
    block: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            block.append(line)
            continue
        if block:
            _add_entry(block, entries)
        block = []
    return entries


def _add_entry(block: list[str], entries: dict) -> None:
    if any(line.startswith("#~") for line in block):
        return
    fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in block)
    fields: dict[str, str] = {}
    current = None
    for line in block:
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            fields[current] += _unquote(line)
            continue
        key, _, rest = line.partition(" ")
        current = key
        fields[current] = _unquote(rest)
    msgid = fields.get("msgctxt", "") + "\x04" + fields.get("msgid", "")
    if fields.get("msgid", "") == "":
        return  # header
    translations = [v for k, v in fields.items() if k.startswith("msgstr")]
    entries[msgid] = ("" if any(not t for t in translations) else translations[0], fuzzy, fields.get("msgid_plural", ""))


def _unquote(text: str) -> str:
    return text.strip()[1:-1].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


@pytest.fixture(scope="module")
def fresh_catalogue(tmp_path_factory) -> Path:
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext is needed to extract messages: apt-get install gettext")
    copy = tmp_path_factory.mktemp("src") / "egov"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--locale", "vi", "--no-obsolete", "--no-location"],
        cwd=copy, check=True, capture_output=True, env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "egov.settings"},
    )
    return copy / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_vietnamese_translation(fresh_catalogue):
    entries = _parse_po(fresh_catalogue)
    assert len(entries) > 50, "the extraction found suspiciously few messages"
    untranslated = sorted(msgid.split("\x04", 1)[1] for msgid, (text, fuzzy, _plural) in entries.items() if not text or fuzzy)
    assert not untranslated, "messages without a Vietnamese translation:\n  " + "\n  ".join(untranslated)


def test_compiled_catalogue_matches_the_source_catalogue():
    """The .mo Django loads says what the reviewed .po says (someone edited the .po and forgot to compile)."""
    import gettext

    po = SOURCE / "locale" / "vi" / "LC_MESSAGES" / "django.po"
    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for key, (text, fuzzy, plural) in _parse_po(po).items():
        context, msgid = key.split("\x04", 1)
        if not text or fuzzy:
            continue
        if plural:
            got = compiled.npgettext(context, msgid, plural, 1) if context else compiled.ngettext(msgid, plural, 1)
        else:
            got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        if got != text:
            stale.append(msgid)
    assert not stale, "django.mo is out of date for:\n  " + "\n  ".join(stale[:20])


def test_a_status_and_a_column_that_read_the_same_in_english_are_told_apart_in_vietnamese():
    """"Received" is a dossier's status (được tiếp nhận) and the column of its receipt date (ngày tiếp nhận)."""
    from django.utils import translation

    from egov.dossiers.models import Status
    from egov.dossiers.rules import STATUS_LABELS

    with translation.override("vi"):
        assert str(Status.RECEIVED.label) == str(STATUS_LABELS[Status.RECEIVED]) == "Được tiếp nhận"
        assert translation.gettext("Received") == "Ngày tiếp nhận"


def test_every_translated_string_is_marked_with_a_name_makemessages_extracts():
    """A message marked through another alias (``gettext as _t``) is never extracted: it stays English for everyone
    while the catalogue looks complete."""
    import re
    from pathlib import Path

    extracted = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext",
                 "pgettext_lazy", "npgettext", "npgettext_lazy"}
    aliases = []
    for path in Path(__file__).resolve().parents[2].joinpath("src", "egov").rglob("*.py"):
        for match in re.finditer(r"from django\.utils\.translation import ([^\n(]+)", path.read_text()):
            for name in match.group(1).split(","):
                original, _as, alias = name.strip().partition(" as ")
                if alias and original in extracted and alias not in extracted:
                    aliases.append(f"{path.name}: {original} as {alias}")
    assert aliases == []
