"""The Streamlit app under streamlit.testing.v1.AppTest: every shipped bundle and map, the sliders,
the URL, and the sentences a damaged or unprecomputed bundle gets. (The browser-only parts:
tests/e2e/.)"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tiny import ROOT, train_tiny

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app.py")
TIMEOUT = 180  # TensorFlow's import and the first model load


def _precomputed(path: Path) -> bool:
    try:
        return "precompute" in json.loads((path / "meta.json").read_text()) and (path / "encodings.npz").is_file()
    except (OSError, ValueError):
        return False


SHIPPED = sorted(p for p in (ROOT / "pretrained").glob("*") if p.is_dir() and _precomputed(p))


@pytest.fixture(scope="session")
def app_bundles(tmp_path_factory) -> dict:
    """Tiny precomputed digits bundles: latent 4 (PCA, t-SNE), latent 2, and a class-conditional one."""
    from vae.precompute import precompute

    root = tmp_path_factory.mktemp("app_bundles")
    out = {}
    for name, kw, pre in (("digits4", dict(latent_dim=4), dict(no_umap=True)),
                          ("digits2", dict(latent_dim=2), dict(no_tsne=True, no_umap=True)),
                          ("cond", dict(latent_dim=3, conditional=True), dict(no_tsne=True, no_umap=True))):
        path = train_tiny(root / name, epochs=3, **kw)
        precompute(path, split="test", progress=False, **pre)
        out[name] = path
    return out


@pytest.fixture
def env(app_bundles, monkeypatch):
    monkeypatch.setenv("VAE_BUNDLE", os.pathsep.join(str(p) for p in app_bundles.values()))
    return app_bundles


def run_app(params: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params or {})
    for key, value in {"show_inactive": True, **state}.items():  # tiny bundles leave dimensions unused
        at.session_state[key] = value
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def full(at: AppTest) -> AppTest:
    """A full rerun: a callback's keyed rerun redraws only some fragments, so AppTest's tree is partial."""
    return at.run()


def dim_slider(at: AppTest, rank: int):
    """The slider of the rank-th most used latent dimension (inactive ones may be hidden)."""
    i = int(at.session_state["_loaded"].view.dim_order[rank])
    return next(s for s in at.slider if s.key == f"dim_{i}")


# ---------------------------------------------------------------------- bundles and maps

def _maps(path: Path) -> list:
    return list(json.loads((path / "meta.json").read_text())["precompute"].get("projections", {}))


# each kind of map drawn once, on the first shipped bundle that has it (maps are generic: the others are
# loaded and inverted below without drawing the page again for each)
ONE_PER_MAP = {}
for _p in SHIPPED:
    for _m in _maps(_p):
        ONE_PER_MAP.setdefault(_m, _p.name)


@pytest.mark.parametrize("bundle", [p.name for p in SHIPPED] or [pytest.param("none", marks=pytest.mark.skip("no shipped bundle"))])
def test_each_shipped_bundle_runs_and_every_map_of_it_inverts(bundle, monkeypatch):
    from vae import explore

    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = run_app({"bundle": bundle})
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    loaded = at.session_state["_loaded"]
    assert at.session_state["bundle_pick"] == bundle and list(loaded.pre.projections) == _maps(loaded.choice.path)
    for name, proj in loaded.pre.projections.items():
        b = loaded.view.bounds[name]
        z = explore.from_map(proj, ((b[0] + b[1]) / 2, (b[2] + b[3]) / 2), at.session_state["z"])
        assert z.shape == (loaded.bundle.latent_dim,) and np.isfinite(z).all()


@pytest.mark.parametrize("proj, bundle", sorted(ONE_PER_MAP.items()) or [pytest.param("none", "none", marks=pytest.mark.skip("no shipped bundle"))])
def test_each_kind_of_map_runs(proj, bundle, monkeypatch):
    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = run_app({"bundle": bundle, "proj": proj})
    assert_clean(at)
    assert at.session_state["proj_pick"] == proj
    assert not at.warning, [w.value for w in at.warning]


@pytest.mark.parametrize("name, maps", [("digits4", ["pca2", "pca3", "tsne"]), ("digits2", ["latent", "pca2"]),
                                        ("cond", ["pca2", "pca3"])])
def test_tiny_bundles_run_on_every_map_and_colouring(env, name, maps):
    for proj in maps:
        for colour in ("class", "brightness", "reconstruction error"):
            at = run_app({"bundle": name, "proj": proj, "color": colour})
            assert_clean(at)
            assert (at.session_state["proj_pick"], at.session_state["colour_pick"]) == (proj, colour)
    assert len([s for s in at.slider if (s.key or "").startswith("dim_")]) == at.session_state["z"].shape[0]
    kl = np.nan_to_num(at.session_state["_loaded"].pre.kl_per_dim)
    at.session_state["show_inactive"] = False
    at.run()
    shown = len([s for s in at.slider if (s.key or "").startswith("dim_")])
    assert shown == (int(np.sum(kl >= 0.01)) if np.any(kl < 0.01) else len(kl))  # inactive ones behind a toggle


def test_model_card_page(env):
    at = run_app({"bundle": "digits4"})
    at.switch_page("app_pages/model_card.py").run()
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    shown = " ".join([text] + [c.value for c in at.caption] + [i.value for i in at.info] +
                     [str(t.value.to_dict()) for t in at.table] + [df.value.to_csv() for df in at.dataframe])
    assert str(env["digits4"]) not in shown and str(env["digits4"].parent) not in shown  # no server path
    layers = next(df.value for df in at.dataframe if "output shape" in df.value.columns)
    assert {"encoder", "decoder"} <= set(layers["network"]) and (layers["type"] == "Dense").any()
    model = at.session_state["_loaded"].bundle.model
    assert int(layers["parameters"].sum()) == model.count_params()
    assert any(f"{model.count_params():,} parameters" in c.value for c in at.caption)
    assert at.table and "dataset" in str(at.table[0].value.to_dict())  # wrapped, never cut off
    for heading in ("Training curves", "KL per latent dimension", "Architecture", "Data and training",
                    "Directions and their edit fidelity"):
        assert heading in text
    table = next(df.value for df in at.dataframe if "judged the target class" in df.value.columns)
    classes = table[table["kind"] == "class"]
    assert len(classes) and classes["judged the target class"].between(0, 1).all()  # measured, shown
    assert classes["edit fidelity ρ"].notna().all() and classes["ρ of the mean"].between(-1, 1).all()
    assert any("held-out examples; it never saw the VAE" in c.value for c in at.caption)


def test_model_card_shows_the_binarised_protocols_figures(app_bundles, tmp_path, monkeypatch):
    from vae.store import update_bundle

    bundle = tmp_path / "binary"
    shutil.copytree(app_bundles["digits2"], bundle)
    meta = json.loads((bundle / "meta.json").read_text())
    update_bundle(bundle, meta_updates={"metrics": {**(meta.get("metrics") or {}), "binarized": {
        "iwae_nll": 77.125, "neg_elbo": 80.5, "protocol": "binarized_digits test split binarised once (seed 0); IWAE k = 20"}}})
    monkeypatch.setenv("VAE_BUNDLE", str(bundle))
    at = run_app({"bundle": "binary"})
    at.switch_page("app_pages/model_card.py").run()
    assert_clean(at)
    metrics = next(df.value for df in at.dataframe if "metric" in df.value.columns)
    row = metrics[metrics["metric"] == "Binarised protocol: Importance-weighted NLL bound"]
    assert list(row["value"]) == [77.125] and "IWAE k = 20" in row["unit"].iloc[0]


# -------------------------------------------------------------------------------- sliders

def test_a_dimension_slider_moves_that_dimension_in_spreads(env):
    at = run_app({"bundle": "digits4", "sel": "5"})
    z0 = np.array(at.session_state["z"])
    loaded = at.session_state["_loaded"]
    i = int(loaded.view.dim_order[1])
    dim_slider(at, 1).set_value(1.5).run()
    assert_clean(at)
    z1 = np.array(at.session_state["z"])
    assert z1[i] == pytest.approx(loaded.view.latent_mean[i] + 1.5 * loaded.view.latent_std[i], rel=1e-5)
    np.testing.assert_allclose(np.delete(z1, i), np.delete(z0, i))  # nothing else moved


def test_an_attribute_slider_moves_along_its_direction_and_can_keep_others_fixed(env):
    from vae import explore

    at = run_app({"bundle": "digits4", "sel": "7"}, controls_tab="Attribute sliders")  # lazy tabs: open this one
    loaded = at.session_state["_loaded"]
    shown = at.session_state["shown_dirs"]
    a, b = shown[0], shown[1]
    va, vb = (next(d for d in loaded.pre.directions if d.name == n).vector for n in (a, b))
    sa = explore.direction_scale(loaded.pre.mean, va)
    sb = explore.direction_scale(loaded.pre.mean, vb)
    full(next(s for s in at.slider if s.key == f"dir_{a}").set_value(2.0).run())
    assert_clean(at)
    z = np.array(at.session_state["z"])
    assert explore.along(z, va, sa) == pytest.approx(2.0, abs=1e-3)
    full(at.toggle(key="keep_fixed").set_value(True).run())
    full(next(s for s in at.slider if s.key == f"dir_{a}").set_value(-1.0).run())
    # 16 directions in a 4-d space: the other 15 cannot all stay put; the move is made all the same
    # (least squares) and a note right under the slider says why the others moved
    assert_clean(at)
    assert explore.along(np.array(at.session_state["z"]), va, sa) == pytest.approx(-1.0, abs=1e-3)
    tree = list(at.main)
    moved = next(i for i, e in enumerate(tree) if getattr(e, "key", None) == f"dir_{a}")
    note = tree[moved + 1]
    assert note.type == "caption" and "15 directions cannot all stay fixed in a 4-dimensional" in note.value, note
    full(at.multiselect(key="shown_dirs").set_value([a, b]).run())
    z = np.array(at.session_state["z"])
    before_b = explore.along(z, vb, sb)
    next(s for s in at.slider if s.key == f"dir_{a}").set_value(-1.0).run()
    z = np.array(at.session_state["z"])
    assert explore.along(z, va, sa) == pytest.approx(-1.0, abs=1e-3)
    assert explore.along(z, vb, sb) == pytest.approx(before_b, abs=1e-3)  # conditional editing kept b


def _seed_box(at: AppTest):
    return next(n for n in at.number_input if n.label == "Seed")


def test_reset_and_sample_from_the_prior(env):
    from vae import latent

    at = run_app({"bundle": "digits4", "sel": "3"})
    loaded = at.session_state["_loaded"]
    full(dim_slider(at, 0).set_value(3.0).run())
    full(at.button(key="reset").click().run())
    np.testing.assert_allclose(at.session_state["z"], loaded.pre.mean[3])
    at.session_state["pop_sample"] = True  # the popover's contents are drawn only while it is open
    full(at)
    assert _seed_box(at).value == 0
    full(at.button(key="draw").click().run())
    first = np.array(at.session_state["z"])
    np.testing.assert_allclose(first, latent.sample_prior(1, 4, 1.0, 0)[0], rtol=1e-6)
    assert _seed_box(at).value == 1  # the box shows the next seed...
    at.button(key="draw").click().run()  # ...and the next press (keyed rerun, as in the browser) draws it
    full(at)
    np.testing.assert_allclose(at.session_state["z"], latent.sample_prior(1, 4, 1.0, 1)[0], rtol=1e-6)
    assert not np.allclose(at.session_state["z"], first)
    assert _seed_box(at).value == 2 and any("Last draw: seed 1," in c.value for c in at.caption)
    full(_seed_box(at).set_value(11).run())  # a typed seed draws that point again
    full(at.button(key="draw").click().run())
    assert_clean(at)
    np.testing.assert_allclose(at.session_state["z"], latent.sample_prior(1, 4, 1.0, 11)[0], rtol=1e-6)
    assert _seed_box(at).value == 12 and any("Last draw: seed 11," in c.value for c in at.caption)
    at.session_state["pop_save"] = True
    full(at)
    full(at.text_input(key="bookmark_name").set_value("my draw").run())
    full(at.button(key="save_bookmark").click().run())
    at.session_state["tools_tab"] = "Bookmarks"  # lazy tabs: open this one
    full(dim_slider(at, 0).set_value(-2.0).run())
    at.button(key="bm_go_my draw").click().run()
    np.testing.assert_allclose(at.session_state["z"], latent.sample_prior(1, 4, 1.0, 11)[0], rtol=1e-6)


def test_a_conditional_bundle_decodes_the_chosen_class(env):
    at = run_app({"bundle": "cond", "sel": "0"})
    at.selectbox(key="z_label_pick").set_value(7).run()
    assert_clean(at)
    assert at.session_state["z_label"] == 7


def test_a_conditional_bundle_shows_one_style_as_every_class_and_has_no_class_sliders(env):
    import re

    at = run_app({"bundle": "cond", "sel": "0"})
    assert_clean(at)
    loaded = at.session_state["_loaded"]
    names = list(loaded.bundle.class_names)
    row = next(e.proto.body for e in at.get("html") if "Same style, every class" in e.proto.body)
    sources = re.findall(r'src="(data:image/png;base64,[^"]+)"', row)
    assert len(sources) == len(names) == 10 and len(set(sources)) > 1       # one drawing per class, not one copy
    assert all(f">{n}<" in row for n in names)
    assert not [d for d in loaded.pre.directions if d.kind in ("class", "class_pair")]
    assert any("takes the class as an input" in n for n in loaded.pre.info.get("skipped", []))


# ------------------------------------------------------------------------------------ URL

def test_the_url_carries_the_view(env):
    at = run_app({"bundle": "digits2", "proj": "latent", "z": "0.25,-1.5", "sel": "4"})
    assert_clean(at)
    np.testing.assert_allclose(at.session_state["z"], [0.25, -1.5])
    assert at.session_state["sel"] == 4
    assert at.query_params["bundle"] in ("digits2", ["digits2"]) and at.query_params["z"] in ("0.25,-1.5", ["0.25,-1.5"])


@pytest.mark.parametrize("params, words", [
    ({"bundle": "../../etc"}, "not one of this app's bundles"),
    ({"bundle": "/etc/passwd"}, "not one of this app's bundles"),
    ({"bundle": "digits4", "z": "nan,1,2,3"}, "NaN"),
    ({"bundle": "digits4", "z": "1,2"}, "has 2 numbers, this bundle needs 4"),
    ({"bundle": "digits4", "z": "a,b,c,d"}, "not a number"),
    ({"bundle": "digits4", "proj": "umap"}, "map “umap” is not in this bundle"),
    ({"bundle": "digits4", "sel": "-3"}, "selected point"),
    ({"bundle": "digits4", "color": "<script>"}, "colouring"),
])
def test_hostile_or_stale_url_parameters_are_ignored_with_a_notice(env, params, words):
    at = run_app(params)
    assert_clean(at)
    notes = [w.value for w in at.warning]
    assert len(notes) == 1 and words in notes[0], notes
    assert at.session_state["bundle_pick"] in {p.name for p in env.values()}
    assert np.all(np.isfinite(at.session_state["z"]))


def test_a_url_can_only_name_a_bundle_on_offer(tmp_path, env):
    from ui import bundles

    choices = bundles.discover(pretrained=tmp_path, extra=list(env.values()))
    assert bundles.find(choices, "digits4") is not None
    for bad in ("../digits4", str(env["digits4"]), "digits4/", "", None, ["digits4"]):
        assert bundles.find(choices, bad) is None


# --------------------------------------------------------------------- broken bundles

def test_a_bundle_without_precomputed_maps_gets_the_command(tiny_bundle_dir, env, monkeypatch):
    monkeypatch.setenv("VAE_BUNDLE", os.pathsep.join([str(tiny_bundle_dir), str(env["digits4"])]))
    at = run_app({"bundle": tiny_bundle_dir.name})
    assert_clean(at)
    assert at.error and "no precomputed" in at.error[0].value
    assert any("scripts/precompute.py" in c.value for c in at.code)
    assert any("digits4" in i.value for i in at.info)  # the other bundles are offered


def test_a_damaged_bundle_names_the_file_and_offers_the_others(env, tmp_path, monkeypatch):
    broken = tmp_path / "broken"
    shutil.copytree(env["digits2"], broken)
    (broken / "model.keras").write_bytes(b"not a model")
    monkeypatch.setenv("VAE_BUNDLE", os.pathsep.join([str(broken), str(env["digits4"])]))
    at = run_app({"bundle": "broken"})
    assert_clean(at)
    assert at.error and "model.keras" in at.error[0].value
    assert any("digits4" in i.value for i in at.info)
    at.selectbox(key="bundle_pick").set_value("digits4").run()
    assert_clean(at)
    assert not at.error and at.session_state["bundle_pick"] == "digits4"


def test_a_model_that_fails_to_load_leaves_the_map_and_says_why(env, tmp_path, monkeypatch):
    """The map is drawn before the model loads; weights that Keras cannot read get a sentence and a
    "Try again" where the decoder would be, and the other bundles still work."""
    import zipfile

    from vae import bundle as bundle_mod

    broken = tmp_path / "badweights"
    shutil.copytree(env["digits2"], broken)
    with zipfile.ZipFile(env["digits2"] / "model.keras") as src, zipfile.ZipFile(broken / "model.keras", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data[: len(data) // 3] if item.filename.endswith(".h5") else data)
    meta = json.loads((broken / "meta.json").read_text())
    meta["files"]["model.keras"] = bundle_mod.sha256(broken / "model.keras")  # passes the checksum, not Keras
    (broken / "meta.json").write_text(json.dumps(meta))
    monkeypatch.setenv("VAE_BUNDLE", os.pathsep.join([str(broken), str(env["digits4"])]))
    at = run_app({"bundle": "badweights"})
    assert_clean(at)
    assert at.error and "could not be loaded safely" in at.error[0].value
    assert any(b.label == "Try again" for b in at.button)
    assert at.get("plotly_chart"), "the map is drawn from the precomputed arrays all the same"
    assert not any(s.key and s.key.startswith("dim_") for s in at.slider)  # no decoder without a model
    at.selectbox(key="bundle_pick").set_value("digits4").run()
    assert_clean(at)
    assert not at.error and any(s.key == "dim_0" for s in at.slider)


def test_two_sessions_keep_their_own_point(env):
    a, b = run_app({"bundle": "digits4", "sel": "1"}), run_app({"bundle": "digits4", "sel": "2"})
    dim_slider(a, 0).set_value(2.5).run()
    b.run()
    loaded = b.session_state["_loaded"]
    np.testing.assert_allclose(b.session_state["z"], loaded.pre.mean[2])
    assert a.session_state["_loaded"].pre is loaded.pre  # one copy of the arrays, shared read-only
    assert not loaded.pre.mean.flags.writeable


# ---------------------------------------------------------------------------------- tools

def test_interpolate_traverse_and_grid(env):
    at = run_app({"bundle": "digits2", "proj": "latent", "sel": "1"}, tools_tab="Interpolate")
    at.button(key="set_A").click().run()
    full(at)
    full(dim_slider(at, 0).set_value(2.0).run())
    at.button(key="set_B").click().run()
    interp = at.session_state["interp"]
    assert interp["frames"].shape[0] == 10 and len(interp["map_path"]) == 10
    np.testing.assert_allclose(interp["z"][0], at.session_state["end_A"]["z"], atol=1e-5)
    np.testing.assert_allclose(interp["z"][-1], at.session_state["end_B"]["z"], atol=1e-5)
    from ui.display import image

    files = {name: data() for _, data, name, _ in image.strip_downloads(interp["frames"], "interpolation")}
    assert files["interpolation.gif"][:6] == b"GIF89a" and files["interpolation.png"][:4] == b"\x89PNG"
    assert 'src="data:image/gif;base64,R0lGODlh' in interp["animation"]  # the strip's animation beside it

    at.session_state["tools_tab"] = "Traverse"
    full(at)
    at.button(key="sweep").click().run()
    frames = at.session_state["traverse"]["frames"]
    assert frames.shape[0] == 9 and not np.allclose(frames[0], frames[-1])

    at.session_state["tools_tab"] = "Grid"
    full(at)
    at.button(key="draw_grid").click().run()
    full(at)
    assert_clean(at)
    grid = at.session_state["grid"]
    h, w = at.session_state["_loaded"].bundle.image_shape[:2]
    assert grid["picture"].shape[:2] == (15 * h, 15 * w)


def test_an_upload_is_inverted_when_its_background_is_the_other_way_round(monkeypatch):
    import io
    from types import SimpleNamespace

    from PIL import Image

    from ui import session
    from ui.display import image
    from vae import modalities

    kept = {}
    monkeypatch.setattr(session, "kept_value", lambda key, default=None: kept.get(key, default))
    monkeypatch.setattr(session, "set_kept", kept.__setitem__)
    for colour, data_light, inverted in (("white", False, True), ("black", False, False),
                                         ("black", True, True), ("white", True, False)):
        buf = io.BytesIO()
        Image.new("L", (12, 12), colour).save(buf, "PNG")
        x = modalities.get("image").read_example(buf.getvalue(), SimpleNamespace(image_shape=(8, 8, 1)),
                                                 **image.own_example_read_options())[0]
        x = image.own_example_adjust(x, {"invert": data_light}, new=True)
        assert kept["upload_invert"] is inverted
        assert (x.mean() > 127) == ((colour == "white") != inverted)


def test_switching_bundles_starts_afresh(env):
    at = run_app({"bundle": "digits4", "sel": "2"}, tools_tab="Interpolate", controls_tab="Attribute sliders")
    at.button(key="set_A").click().run()
    full(at)
    at.selectbox(key="bundle_pick").set_value("digits2").run()
    assert_clean(at)
    assert at.session_state["z"].shape == (2,) and "end_A" not in at.session_state
    at.button(key="set_B").click().run()  # an interpolation cannot mix the two latent spaces
    full(at)
    assert_clean(at)
    assert at.session_state["interp"] is None


def test_bundles_on_offer_come_from_pretrained_the_flag_and_the_environment(tmp_path):
    from ui import bundles

    pre = tmp_path / "pretrained"
    for name in ("fashion_mnist", "b", ".hidden", "_private"):
        (pre / name).mkdir(parents=True)
    extra = tmp_path / "elsewhere" / "b"
    extra.mkdir(parents=True)
    paths = bundles.extra_paths(["--bundle", str(extra), "--other", "x"], {"VAE_BUNDLE": os.pathsep.join(["rel/c", str(extra)])})
    assert paths == [extra.resolve(), (Path.cwd() / "rel" / "c").resolve()]  # deduplicated, resolved
    choices = bundles.discover(pretrained=pre, extra=paths)
    names = [c.name for c in choices]
    assert names == ["b", "c", "fashion_mnist"]  # the flag's "b" shadows pretrained/b; hidden folders are skipped
    assert bundles.default_choice(choices).name == "b"  # a bundle asked for on the command line comes first
    assert bundles.default_choice([c for c in choices if not c.extra]).name == "fashion_mnist"


def test_a_slider_says_how_far_to_trust_it():
    from ui.sliders import short_trust, trust
    from vae.precomputed import Direction

    pair = Direction("Sneaker -> Sandal", "class_pair", np.ones(2, np.float32), {"accuracy": 0.97},
                     {"spearman": 0.85, "reached": 0.6, "start_share": 0.02})
    text, level = trust(pair, "image")
    assert "60% of edited images look like Sandal" in text and "from 2%" in text and level == "good"
    one = Direction("class: Bag", "class", np.ones(2, np.float32), {"accuracy": 0.9}, {"spearman": 0.3, "reached": 0.1})
    assert "look like Bag" in trust(one)[0] and trust(one)[1] == "poor" and short_trust(one) == "ρ +0.30"
    width = Direction("width", "attribute", np.ones(2, np.float32), {"r2": 0.8}, {"spearman": -0.6, "class_change_rate": 0.25})
    assert trust(width) == ("edit fidelity ρ = -0.60 · changes the class in 25% of edits", "fair")
    lasso = Direction("mine", "custom", np.ones(2, np.float32),
                      {"accuracy": 0.8, "effects": {"width": 0.95, "height": -0.7, "brightness": 0.1}}, {})
    assert trust(lasso) == ("splits the two groups with 80% accuracy · mostly changes width (ρ +0.95), "
                            "height (ρ -0.70)", "fair")
    lasso.fit["effects"] = {"brightness": 0.2}
    assert trust(lasso)[0].endswith("changes no measured attribute steadily")


def test_an_attribute_slider_label_names_its_side_effects_from_the_model_cards_source(env, tmp_path, monkeypatch):
    from ui.sliders import side_effect, slider_label
    from vae.precomputed import Direction

    width = Direction("width", "attribute", np.ones(2, np.float32), {"r2": 0.9}, {"spearman": 0.95, "class_change_rate": 0.96})
    assert trust_level(width) == "good" and side_effect(width) == "changes the class in 96% of edits"
    assert slider_label(width).endswith(":red[changes the class in 96% of edits]")
    calm = Direction("slant", "attribute", np.ones(2, np.float32), {"r2": 0.9}, {"spearman": 0.9, "class_change_rate": 0.02})
    assert "changes the class" not in slider_label(calm)
    typed = Direction("[x](http://evil/login)", "custom", np.ones(2, np.float32), {"accuracy": 0.9, "effects": {}}, {})
    assert "[x](" not in slider_label(typed) and "\\[x\\]" in slider_label(typed)

    # a bundle whose first attribute slider changes the class in 96% of edits (the tiny model's change none)
    bundle = tmp_path / "sidefx"
    shutil.copytree(env["digits4"], bundle)
    meta = json.loads((bundle / "meta.json").read_text())
    first = next(d for d in meta["precompute"]["directions"] if d["kind"] == "attribute")
    first["fidelity"]["class_change_rate"] = 0.96
    (bundle / "meta.json").write_text(json.dumps(meta))
    monkeypatch.setenv("VAE_BUNDLE", str(bundle))
    at = run_app({"bundle": "sidefx"}, controls_tab="Attribute sliders")
    assert_clean(at)
    label = next(s.label for s in at.slider if s.key == f"dir_{first['name']}")
    assert label.endswith(":red[changes the class in 96% of edits]"), label
    at.switch_page("app_pages/model_card.py").run()
    assert_clean(at)
    table = next(df.value for df in at.dataframe if "side effects" in df.value.columns)
    row = table[table["direction"] == first["name"]].iloc[0]
    assert row["side effects"] == "changes the class in 96% of edits" and row["class change rate"] == 0.96  # one source


def trust_level(d) -> str:
    from ui.sliders import trust

    return trust(d)[1]


def test_percentiles_in_the_inspector_and_the_meter_read_1st_2nd_3rd(env):
    import re

    from ui import words
    from ui.decoder import meter_html

    at = run_app({"bundle": "digits4"})
    loaded = at.session_state["_loaded"]
    err = loaded.pre.recon_error
    pcts = [100.0 * np.mean(err < err[r]) for r in range(len(err))]
    row = next(r for r, p in enumerate(pcts) if round(p) % 10 in (1, 2, 3) and round(p) % 100 not in (11, 12, 13))
    at = run_app({"bundle": "digits4", "sel": str(row)})
    assert_clean(at)
    shown = " ".join(h.value for h in at.html)
    assert words.percentile(pcts[row]) in shown and not re.search(r"\b\d*[123]th\b", re.sub(r"\b1[123]th\b", "", shown))
    report = loaded.pre.off_manifold(np.array(at.session_state["z"]))
    meter = meter_html(report)  # what the pad shows beside the image
    assert words.percentile(report["percentile"]) in meter and words.measured_in(report, short=True) in meter
    assert not re.search(r"\b\d*[123]th\b", re.sub(r"\b1[123]th\b", "", meter))


@pytest.mark.parametrize("first,then", [("digits2", "digits4"), ("cond", "digits4")])
def test_switching_to_a_bundle_with_more_dimensions_sets_its_sliders_before_drawing_them(env, first, then):
    at = run_app({"bundle": first})
    assert_clean(at)
    at.selectbox(key="bundle_pick").set_value(then).run()
    assert_clean(at)
    assert at.session_state["bundle_pick"] == then
    dims = [s for s in at.slider if str(s.key).startswith("dim_")]
    assert len(dims) == 4 and all(-4 <= s.value <= 4 for s in dims)


def test_showing_the_inactive_dimensions_sets_their_sliders_before_drawing_any(env):
    """Showing the inactive dimensions draws their sliders at the current point, with no widget error (slider
    values are now set before the first slider of a run is drawn, never half way through the loop)."""
    at = run_app({"bundle": "digits4"}, show_inactive=False)
    assert_clean(at)
    shown = len([s for s in at.slider if str(s.key).startswith("dim_")])
    at.toggle(key="show_inactive").set_value(True).run()
    assert_clean(at)
    assert len([s for s in at.slider if str(s.key).startswith("dim_")]) == 4 > shown


def test_many_dimensions_show_the_most_used_until_asked_for_all(env, monkeypatch):
    """Past MANY dimensions only the MOST_USED get sliders (each slider is redrawn on every drag step);
    "Show all" draws the rest, at the current point."""
    from ui import sliders
    monkeypatch.setattr(sliders, "MANY", 3)
    monkeypatch.setattr(sliders, "MOST_USED", 2)
    at = run_app({"bundle": "digits4"})
    assert_clean(at)
    order = [int(i) for i in at.session_state["_loaded"].view.dim_order]
    assert [s.key for s in at.slider if str(s.key).startswith("dim_")] == [f"dim_{i}" for i in order[:2]]
    at.toggle(key="show_all_dims").set_value(True).run()
    assert_clean(at)
    dims = [s for s in at.slider if str(s.key).startswith("dim_")]
    assert len(dims) == 4 and all(-4 <= s.value <= 4 for s in dims)
