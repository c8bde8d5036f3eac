"""The app's wording helpers (ui/words.py): ordinals, percentiles, the meter's verdict, literal echoes."""
from __future__ import annotations

from pathlib import Path

import pytest

from ui import words


@pytest.mark.parametrize("n, text", [(0, "0th"), (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                     (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"),
                                     (62, "62nd"), (100, "100th"), (101, "101st"), (111, "111th"), (112, "112th")])
def test_ordinals(n, text):
    assert words.ordinal(n) == text


def test_percentiles_round_and_clip():
    assert words.percentile(61.6) == "62nd percentile" and words.percentile(1.2) == "1st percentile"
    assert words.percentile(140) == "100th percentile" and words.percentile(float("nan")) == "0th percentile"


def test_meter_words_say_where_the_meter_measured():
    report = {"verdict": "typical", "percentile": 42.4, "dims_used": 7, "latent_dim": 16}
    assert words.meter_words(report) == ("on the data", "42nd percentile of distance to the data, in the 7 of 16 "
                                                        "dimensions the decoder uses")
    report.update(verdict="far off", dims_used=16)
    assert words.meter_words(report)[0].startswith("far off") and "all 16 latent dimensions" in words.meter_words(report)[1]


@pytest.mark.parametrize("typed", ["[Your session expired - log in](http://evil/login)", "![x](http://host/pixel.png)",
                                   ":red[big] :material/home: <img src=x onerror=alert(1)>", "**bold** `code` #h"])
def test_a_typed_value_is_echoed_as_literal_markdown(typed):
    out = words.literal(typed)
    for special in "[]()!<>`*#:":
        assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == special), out  # every one escaped
    assert out.replace("\\", "") == typed  # and nothing else changed


def test_literal_keeps_one_short_line():
    out = words.literal("a\n\n# b" + "c" * 200, limit=20)
    assert "\n" not in out and out.endswith("…") and len(out.replace("\\", "")) == 20


def test_an_unmeasured_inverse_error_is_said_in_words_not_nan():
    from ui.words import inverse_error

    assert inverse_error({"median_rel": 0.123}) == "median error 12% of the data's spread"
    for missing in ({}, None, {"median_rel": float("nan")}, {"median_rel": None}):
        assert "nan" not in inverse_error(missing) and "could not be measured" in inverse_error(missing)


def test_model_card_values_read_as_text_not_json():
    from ui.model_card import _shown

    assert _shown({"train": 54000, "test": 10000}) == "train 54,000 · test 10,000"
    assert (_shown(None), _shown(False), _shown(True), _shown(0.001234567)) == ("—", "no", "yes", "0.001235")


def test_precompute_names_the_command_that_opens_the_bundle(tmp_path):
    from vae.precompute import app_command

    assert app_command(tmp_path / "mine") == f"streamlit run app.py -- --bundle {tmp_path / 'mine'}"
    shipped = Path(__file__).resolve().parents[2] / "pretrained" / "fashion_mnist"
    assert "--bundle" not in app_command(shipped) and "fashion_mnist" in app_command(shipped)
