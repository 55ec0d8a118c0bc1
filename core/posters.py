"""QR posters (seed 004 引流: 扫码进群, 海报): a PNG with a QR code of a link and a few lines of
text above and below it, and signed addresses that let a bot fetch one without a key.

No domain here: the apps say what the lines are (composed in the organization's language by
`integrations.composer`, kind `poster`) and which link the code holds.

Text needs a font that covers Chinese. `settings.POSTER_FONT` names one (a .ttf/.otf/.ttc
file); otherwise the first font fontconfig lists for Chinese (`fc-list :lang=zh`) is used.
Without one, a poster whose text is not plain Latin is drawn without text: the QR code on
its own, which still works (docs/deployment.md says which package to install).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import shutil
import subprocess

import segno
from django.conf import settings
from django.core import signing
from django.core.cache import cache

# The poster: 750 × 1000 px (a phone screen's width at 2×), the code 520 px wide.
WIDTH, HEIGHT = 750, 1000
QR_BOX = 520
MARGIN = 48
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (13, 110, 253)
PAPER = (255, 255, 255)
BAND = (231, 241, 255)

SALT = "qunyun.poster"
# How long a poster's address works for a bot (it fetches it at once; members may forward).
URL_MAX_AGE = 7 * 24 * 3600
CACHE_SECONDS = 24 * 3600


# --- signed addresses ------------------------------------------------------------------------


def sign(kind: str, org_id: int, pk: int) -> str:
    """A token naming one poster (`kind`: "g" a group, "c" a campaign) of one organization."""
    return signing.dumps([kind, org_id, pk], salt=SALT, compress=True)


def unsign(token: str, *, max_age: int = URL_MAX_AGE) -> tuple[str, int, int] | None:
    """(kind, organization id, pk) of a token that is genuine and fresh, else None."""
    try:
        kind, org_id, pk = signing.loads(token, salt=SALT, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if kind not in ("g", "c") or not isinstance(org_id, int) or not isinstance(pk, int):
        return None
    return kind, org_id, pk


# --- fonts -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _font_file(cjk: bool) -> str | None:
    configured = getattr(settings, "POSTER_FONT", "")
    if configured:
        return configured
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return None
    pattern = ":lang=zh" if cjk else ":lang=en"
    try:
        out = subprocess.run(  # noqa: S603 - a fixed program and arguments
            [fc_list, pattern, "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.strip().rstrip(":") for line in out.splitlines() if line.strip())
    preferred = [f for f in files if "Sans" in f or "sans" in f or "Hei" in f]
    return (preferred or files or [None])[0]


def font_for(lines: list[str]) -> str | None:
    """The font file to print these lines with, or None (the poster goes without text)."""
    latin = all(ord(ch) < 0x250 for line in lines for ch in line)
    return _font_file(False) if latin else _font_file(True)


def has_cjk_font() -> bool:
    return _font_file(True) is not None


# --- drawing ---------------------------------------------------------------------------------


def qr_matrix(url: str):
    """The QR code for `url`, as a printed poster needs it (error correction M: survives a
    crease or a thumb)."""
    return segno.make(url, error="m", micro=False, boost_error=False)


def qr_box(size: int) -> tuple[int, int, int]:
    """(left, top, module size in px) of a QR code of `size` modules on the poster."""
    module = max(1, QR_BOX // (size + 8))  # 4 modules of quiet zone on each side
    width = module * (size + 8)
    return (WIDTH - width) // 2 + 4 * module, 260 + 4 * module, module


def render(url: str, lines: list[str]) -> bytes:
    """The poster as PNG bytes: `lines[:-1]` above the code (the first is the organization,
    the second the group or offer, large), the last below it (what to do). The same link,
    lines and font make the same image: it is kept in the cache for a day (a bot fetches it,
    members forward it, the dashboard shows it)."""
    font_file = font_for(lines)
    key = (
        "qunyun:poster:"
        + hashlib.sha256(
            json.dumps([url, lines, font_file], ensure_ascii=False).encode()
        ).hexdigest()
    )
    png = cache.get(key)
    if png is None:
        png = _draw(url, lines, font_file)
        cache.set(key, png, CACHE_SECONDS)
    return png


def _draw(url: str, lines: list[str], font_file: str | None) -> bytes:
    from PIL import Image, ImageDraw

    qr = qr_matrix(url)
    matrix = [list(row) for row in qr.matrix]
    size = len(matrix)
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 230], fill=BAND)
    left, top, module = qr_box(size)
    code = Image.frombytes(
        "L", (size, size), bytes(0 if dark else 255 for row in matrix for dark in row)
    )
    image.paste(code.resize((size * module, size * module), Image.Resampling.NEAREST), (left, top))
    if font_file and lines:
        _print(draw, font_file, lines, top + (size + 4) * module + 24)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _print(draw, font_file: str, lines: list[str], below_y: int) -> None:
    from PIL import ImageFont

    head, rest = lines[0], lines[1:-1] if len(lines) > 1 else []
    y = 36
    y = _centred(draw, ImageFont.truetype(font_file, 30), head, y, MUTED) + 14
    for i, line in enumerate(rest):
        font = ImageFont.truetype(font_file, 44 if i == 0 else 34)
        y = _centred(draw, font, line, y, INK if i == 0 else ACCENT) + 10
    if len(lines) > 1:
        _centred(draw, ImageFont.truetype(font_file, 36), lines[-1], below_y, INK)


def _centred(draw, font, text: str, y: int, fill) -> int:
    """Draw `text` centred at `y`, shrinking it to fit the width; returns the next y."""
    while True:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= WIDTH - 2 * MARGIN or font.size <= 16:
            break
        font = font.font_variant(size=font.size - 2)
    if right - left > WIDTH - 2 * MARGIN:  # still too long at the smallest size: cut it
        while text and draw.textbbox((0, 0), text + "…", font=font)[2] > WIDTH - 2 * MARGIN:
            text = text[:-1]
        text += "…"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((WIDTH - (right - left)) // 2 - left, y - top), text, font=font, fill=fill)
    return y + (bottom - top)
