r"""How the app words things: ordinals, percentiles, the off-manifold verdict, and what people typed.

    >>> print(percentile(62), literal("[x](http://evil)"))
    62nd percentile \[x\]\(http\://evil\)

Pure functions of plain values (no Streamlit), shared by the meter, the inspector and the upload panel.
"""
from __future__ import annotations

import re

import numpy as np

# Everything CommonMark lets a backslash escape, plus ':' (Streamlit's :red[...] and :material/...:
# directives, and http: autolinks). A backslash before any of them shows the character itself.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")


def literal(value, limit: int = 80) -> str:
    """`value` as text that st.markdown, st.caption, st.warning and widget labels show literally:
    no link, image, HTML, colour or icon can come from it. Cut to `limit` characters, one line."""
    text = " ".join(str(value).split())  # newlines would start new Markdown blocks
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKDOWN.sub(r"\\\1", text)


def quoted(value, limit: int = 60) -> str:
    """A user's value inside curly quotes, shown literally: “[x](y)” stays text."""
    return f"“{literal(value, limit)}”"


def ordinal(n) -> str:
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 11 -> '11th', 12 -> '12th', 13 -> '13th', 21 -> '21st', 62 -> '62nd'."""
    n = int(n)
    if n % 100 in (11, 12, 13):
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def percentile(p) -> str:
    """A share 0-100 as 'the 62nd percentile' wording: rounded to a whole number, clipped to 0-100."""
    p = float(p)
    p = 0.0 if not np.isfinite(p) else float(np.clip(p, 0.0, 100.0))
    return f"{ordinal(round(p))} percentile"


VERDICT_WORDS = {"typical": "on the data", "unusual": "unusual", "far off": "far off: the model is guessing"}


def measured_in(report: dict, short: bool = False) -> str:
    """Where the meter measured: 'the 7 of 16 dimensions the decoder uses' or 'all 16 latent dimensions'
    ('the 7 dimensions the decoder uses', 'all 16 dimensions' if `short`)."""
    used, d = report.get("dims_used"), report.get("latent_dim")
    if used is None or d is None:
        return "latent space"
    if used >= d:
        return f"all {d} dimensions" if short else f"all {d} latent dimensions"
    return f"the {used} dimensions the decoder uses" if short else f"the {used} of {d} dimensions the decoder uses"


def meter_words(report: dict) -> tuple[str, str]:
    """The off-manifold meter's verdict and its reason, from vae.manifold.off_manifold's report, for every
    panel that shows one: ('on the data', '40th percentile of distance to the data, in the 7 of 16 latent
    dimensions the decoder uses')."""
    verdict = str(report["verdict"])
    return (VERDICT_WORDS.get(verdict, verdict),
            f"{percentile(report['percentile'])} of distance to the data, in {measured_in(report)}")


def inverse_error(measured) -> str:
    """How far a map's inverse lands from the true latent point, from precompute's figures: 'median error 12%
    of the data's spread', or that it could not be measured (too few held-out points)."""
    value = (measured or {}).get("median_rel")
    if isinstance(value, (int, float)) and np.isfinite(value):
        return f"median error {value:.0%} of the data's spread"
    return "its error could not be measured on this few points"
