"""Fill the zh-hans catalogue from locale/pending/*.json ({msgid: msgstr or [plural forms]}).

Run after `make messages`; only untranslated or fuzzy entries are filled, then the catalogue
must be compiled again (`make messages` does it, or compilemessages)."""

import json
import pathlib
import sys

import polib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PO = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> int:
    pending = {}
    for path in sorted((ROOT / "locale/pending").glob("*.json")):
        pending.update(json.loads(path.read_text(encoding="utf-8")))
    catalogue = polib.pofile(str(PO), wrapwidth=0)
    filled = 0
    for entry in catalogue:
        if entry.obsolete or (entry.translated() and "fuzzy" not in entry.flags):
            continue
        value = pending.get(entry.msgid)
        if value is None:
            continue
        if entry.msgid_plural:
            forms = value if isinstance(value, list) else [value]
            entry.msgstr_plural = {i: forms[min(i, len(forms) - 1)] for i in range(1)}
        else:
            entry.msgstr = value if isinstance(value, str) else value[0]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
        filled += 1
    catalogue.save(str(PO))
    missing = [
        e.msgid for e in catalogue if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)
    ]
    print(f"filled {filled}; still untranslated or fuzzy: {len(missing)}")
    for msgid in missing[:50]:
        print("  ", msgid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
