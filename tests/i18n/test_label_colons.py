"""A label before its value takes its colon from the catalogue ("Tier: " in English, "等级：" in
Chinese), never from a ':' typed after a translated word in a template."""

import re
from pathlib import Path

from django.template import Context, Template
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
# {% translate "Tier" %}: …, {% endblocktranslate %}： …, {{ field.label }}: …
COLON_AFTER_TRANSLATION = re.compile(
    r"(\{%\s*(translate|trans)\s+[\"'][^\"']*[\"'][^%]*%\}|\{%\s*endblocktranslate\s*%\}"
    r"|\{\{[^}]*label[^}]*\}\})\s*[:：]"
)


def test_no_template_types_a_colon_after_a_translation():
    found = []
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        if ".venv" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [
                f"{path.relative_to(ROOT)}:{number}" for _ in COLON_AFTER_TRANSLATION.finditer(line)
            ]
    assert not found, 'use {{ _("Label")|colon }}: ' + ", ".join(found)


def test_the_colon_is_the_languages():
    template = Template('{% load qunyun %}{{ _("Tier")|colon }}金卡')
    with translation.override("zh-hans"):
        assert template.render(Context()) == "等级：金卡"
    with translation.override("en"):
        assert template.render(Context()) == "Tier: 金卡"


def test_a_label_is_escaped():
    template = Template("{% load qunyun %}{{ label|colon }}")
    with translation.override("en"):
        assert template.render(Context({"label": "<b>x</b>"})) == "&lt;b&gt;x&lt;/b&gt;: "
