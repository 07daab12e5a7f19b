"""Chart and report texts in English, Finnish and Swedish, with the ministry's own terms.

The texts live in one catalogue file per language, `locales/en.toml`, `fi.toml` and `sv.toml`
(`key = "text"`, a key per line), which translators edit directly; every key is in every file
(tests/test_present.py checks it). A catalogue is read when its language is first asked (English's always:
it names the keys), not all three at import. Finnish and Swedish follow the words TEM and the TE offices use in their
pilots' documents: TE-toimisto / TE-byrå, työnhakija / arbetssökande, palveluntuottaja /
serviceproducent, kokeilu / försök, tulosperusteinen palkkio / resultatbaserad ersättning.
Numbers, percentages and plural forms follow each language's CLDR rules through Babel (Finnish and
Swedish: decimal comma, a no-break space between thousands, a true minus sign); ranges use an en dash.
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, get_minus_sign_symbol

LANGS = ("en", "fi", "sv")
CATALOGUES = Path(__file__).parent / "locales"
MINUS = "\N{MINUS SIGN}"
EN_DASH = "\N{EN DASH}"


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """The texts of one language as read from `locales/<lang>.toml`."""
    with (CATALOGUES / f"{lang}.toml").open("rb") as fh:
        return tomllib.load(fh)


def has(key: str) -> bool:
    """Whether `key` names a text (English's catalogue holds every key)."""
    return key in catalogue("en")


def _check(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")


def text(key: str, lang: str = "en", **fields: object) -> str:
    """The text `key` in `lang`, with `{fields}` filled in. A text with plural forms (a table of CLDR
    categories: `one`, `other`, ...; `ordinal_one`, `ordinal_other` for ordinals such as 3:e) takes
    the form `lang` uses for the field `n`."""
    template = _template(key, lang)
    if isinstance(template, dict):
        template = _form(template, fields.get("n", 0), lang)
    return template.format(**fields) if fields else template


def _form(forms: dict[str, str], count: object, lang: str) -> str:
    """The plural (or ordinal) form of `forms` for `count` (a number, or a number already formatted)."""
    raw = str(count).replace("\u00a0", "").replace("\u202f", "").replace(MINUS, "-")
    raw = raw.replace(",", "") if lang == "en" else raw.replace(",", ".")
    try:
        n = float(raw)
    except ValueError:
        n = 0.0
    n = int(n) if n == int(n) else n
    locale = Locale.parse(lang)
    if any(k.startswith("ordinal_") for k in forms):
        return forms.get(f"ordinal_{locale.ordinal_form(n)}", forms["ordinal_other"])
    return forms.get(locale.plural_form(n), forms["other"])


def lines(key: str, lang: str = "en") -> list[str]:
    """A text that is a list (e.g. the caveats), one item per entry."""
    return list(_template(key, lang))


def _template(key: str, lang: str) -> Any:
    """The text `key` as `lang`'s catalogue has it (a list, or a table of plural forms, for some keys)."""
    _check(lang)
    own = catalogue(lang)
    return own[key] if key in own else catalogue("en")[key]


def number(x: float | None, lang: str = "en", decimals: int = 0) -> str:
    """A number as `lang` writes it: 12,345.6 in English, 12 345,6 in Finnish and Swedish (Babel)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    if abs(x) >= 1e15:  # beyond any pilot or budget: written as a power of ten
        return f"{x:.1e}".replace("-", get_minus_sign_symbol(lang))
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    s = format_decimal(round(x, decimals) + 0.0, format=pattern, locale=lang)
    return s.replace("-", get_minus_sign_symbol(lang))


def signed(x: float | None, lang: str = "en", decimals: int = 1) -> str:
    """A difference with its sign always shown: +1.2, -0.4 (a true minus in Finnish and Swedish)."""
    s = number(x, lang, decimals)
    return "+" + s if x is not None and not math.isnan(x) and round(x, decimals) > 0 else s


def percent(x: float | None, lang: str = "en", decimals: int = 0) -> str:
    """A share (0-1) as a percentage: 45% in English, 45 % in Finnish and Swedish."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return number(100 * x, lang, decimals) + ("%" if lang == "en" else "\u00a0%")


def day(iso: str, lang: str = "en") -> str:
    """A date (ISO text, e.g. 2026-12-04 or a timestamp) as `lang` writes it: 4 Dec 2026, 4.12.2026, 2026-12-04."""
    from datetime import date

    d = date.fromisoformat(iso[:10])
    return {"fi": f"{d.day}.{d.month}.{d.year}"}.get(lang) or format_date(d, "medium" if lang == "en" else "short",
                                                                         locale=lang)


def span(lo: str, hi: str) -> str:
    """A range of two formatted values with an en dash: 4,955–6,577; spaced when an end is negative."""
    if lo.startswith(("-", MINUS)) or hi.startswith(("-", MINUS)):
        return f"{lo} {EN_DASH} {hi}"
    return f"{lo}{EN_DASH}{hi}"
