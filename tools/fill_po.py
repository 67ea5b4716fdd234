"""Fill msgstr entries of a .po file from a {msgid: msgstr} JSON file (a translator's helper).

Usage: python tools/fill_po.py path/to/django.po translations.json
Only empty msgstr entries are filled; the fuzzy flag is dropped from filled entries.
"""

import json
import re
import sys


def unquote(block: str) -> str:
    return "".join(json.loads(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', block))


def fill(po_text: str, translations: dict) -> tuple[str, list]:
    entries = po_text.split("\n\n")
    missing = []
    for i, entry in enumerate(entries):
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', entry, re.M)
        if not match:
            continue
        msgid = unquote(match.group(1))
        if not msgid or unquote(match.group(2)):
            continue
        if msgid not in translations:
            missing.append(msgid)
            continue
        new = "msgstr " + json.dumps(translations[msgid], ensure_ascii=False)
        entry = entry[: match.start(2) - len("msgstr ")] + new + entry[match.end(2) :].lstrip("\n")
        entry = entry.replace("#, fuzzy\n", "").replace(", fuzzy", "")
        entries[i] = entry.rstrip("\n")
    return "\n\n".join(entries), missing


if __name__ == "__main__":
    po_path, json_path = sys.argv[1:3]
    with open(json_path, encoding="utf-8") as handle:
        translations = json.load(handle)
    with open(po_path, encoding="utf-8") as handle:
        text, missing = fill(handle.read(), translations)
    with open(po_path, "w", encoding="utf-8") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    sys.exit(1 if missing else 0)
