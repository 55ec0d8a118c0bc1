"""zh-hans and en are complete: every UI string is in both catalogues, translated, compiled."""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALES = {"zh_Hans": ROOT / "locale/zh_Hans/LC_MESSAGES", "en": ROOT / "locale/en/LC_MESSAGES"}
# Every app of the project (a folder with apps.py), the settings and the project templates:
# a new app is covered without anyone remembering to add it here.
SOURCE_DIRS = sorted(p.name for p in ROOT.iterdir() if (p / "apps.py").is_file()) + [
    "config",
    "templates",
]


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_fully_translated(locale):
    po = polib.pofile(str(LOCALES[locale] / "django.po"))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{locale}: untranslated {untranslated[:10]}"
    assert not fuzzy, f"{locale}: fuzzy {fuzzy[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_the_source(locale):
    po = polib.pofile(str(LOCALES[locale] / "django.po"))
    with open(LOCALES[locale] / "django.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)

    def compiled(entry):
        if entry.msgctxt:
            return mo.pgettext(entry.msgctxt, entry.msgid)
        return mo.gettext(entry.msgid)

    stale = [
        e.msgid for e in po.translated_entries() if not e.msgid_plural and compiled(e) != e.msgstr
    ]
    assert not stale, f"{locale}: django.mo is stale; run `make messages` ({stale[:5]})"


@pytest.mark.parametrize("locale", ["zh_Hans"])
def test_translations_keep_placeholders(locale):
    import re

    po = polib.pofile(str(LOCALES[locale] / "django.po"))
    pattern = re.compile(r"%\(\w+\)[sd]")

    def keeps_placeholders(entry) -> bool:
        wanted = set(pattern.findall(entry.msgid)) | set(pattern.findall(entry.msgid_plural))
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        return all(set(pattern.findall(text)) <= wanted for text in translations) and set(
            pattern.findall(" ".join(translations))
        ) >= set(pattern.findall(entry.msgid))

    broken = [e.msgid for e in po.translated_entries() if not keeps_placeholders(e)]
    assert not broken


def test_every_ui_string_is_in_the_catalogues(tmp_path):
    """Run makemessages on a copy of the sources and compare with the committed catalogues."""
    if not shutil.which("xgettext"):
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("xgettext (GNU gettext) is required")
        pytest.skip("needs GNU gettext (xgettext) to extract strings")
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    (tmp_path / "locale").mkdir()
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": "sqlite:///:memory:"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = {
        e.msgid for e in polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po"))
    }
    for locale, folder in LOCALES.items():
        committed = {e.msgid for e in polib.pofile(str(folder / "django.po")) if not e.obsolete}
        missing = extracted - committed
        assert not missing, f"{locale} lacks {sorted(missing)[:10]}: run `make messages`"


def test_english_maps_every_string_to_itself():
    """English is the source language. A msgstr that differs is a fuzzy match that was kept by
    mistake ("Buy now" shown as "Retry now"), and one with other placeholders raises KeyError
    when it is formatted."""
    po = polib.pofile(str(LOCALES["en"] / "django.po"))
    wrong = [
        e.msgid
        for e in po.translated_entries()
        if (e.msgstr_plural and [e.msgstr_plural[k] for k in sorted(e.msgstr_plural)][:2]
            != [e.msgid, e.msgid_plural])
        or (not e.msgid_plural and e.msgstr != e.msgid)
    ]  # fmt: skip
    assert not wrong, f"en msgstr differs from msgid: {wrong[:10]}"
