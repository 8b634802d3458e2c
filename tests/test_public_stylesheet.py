"""The stylesheets people read with honour their text size (issue #14, item 13): the root is 100% of the
browser's setting, font sizes are relative (rem/em/%), none below 0.875rem (14 px at the default).

The browser tests measure the rendered pages; this reads the sources, so a px size cannot slip back in."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "inspect_api"
SHEETS = {
    "static/public.css": (ROOT / "static" / "public.css").read_text(encoding="utf-8"),
    "templates/inspections/report.html": re.search(
        r"<style>(.*?)</style>", (ROOT / "templates" / "inspections" / "report.html").read_text(encoding="utf-8"),
        re.S).group(1),
}


def _declarations(css: str, prop: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [m.strip() for m in re.findall(rf"(?<![-\w]){prop}\s*:\s*([^;}}]+)", css)]


def test_root_font_size_is_the_readers():
    for name, css in SHEETS.items():
        root = re.search(r"(?:^|})\s*html\s*{([^}]*)}", re.sub(r"/\*.*?\*/", "", css, flags=re.S))
        assert root and re.search(r"font-size\s*:\s*100%", root.group(1)), name


def test_font_sizes_are_relative_and_never_below_14px():
    for name, css in SHEETS.items():
        sizes = _declarations(css, "font-size") + [
            s.split("/")[0].split()[-1] for s in _declarations(css, "font") if re.search(r"\d", s)]
        assert sizes, name
        for size in sizes:
            if size in ("inherit", "100%"):
                continue
            match = re.fullmatch(r"([0-9.]+)(rem|em|%)", size)
            assert match, f"{name}: font-size {size} is not relative to the reader's setting"
            value = float(match.group(1)) / (100 if match.group(2) == "%" else 1)
            assert value >= 0.875, f"{name}: font-size {size} is smaller than 14 px at the default"


def test_no_pixel_widths_that_cannot_shrink():
    """Fixed widths in px would not follow the text; the few px values left are borders and hairlines."""
    for name, css in SHEETS.items():
        for prop in ("width", "min-width", "max-width", "flex-basis"):
            for value in _declarations(css, prop):
                px = [float(v) for v in re.findall(r"([0-9.]+)px", value)]
                assert all(v <= 2 for v in px), f"{name}: {prop}: {value}"
