"""Training: the loss goes down, a killed run resumes, divergence stops cleanly, bad arguments are refused."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tiny import ROOT
from vae.training import TrainConfig, TrainingDiverged, train
from vae.errors import VAEError

TRAIN = [sys.executable, str(ROOT / "scripts" / "train.py")]
TINY = ["--dataset", "digits", "--latent-dim", "2", "--hidden-units", "32", "--batch-size", "64",
        "--no-evaluate", "--quiet"]


def test_short_training_lowers_validation_loss(tiny_bundle_dir):
    history = json.loads((tiny_bundle_dir / "history.json").read_text())
    assert len(history["val_loss"]) == 4
    assert history["val_loss"][-1] < history["val_loss"][0] - 1.0
    assert {"loss", "reconstruction", "kl", "val_reconstruction", "val_kl", "seconds"} <= set(history)


def test_divergence_stops_with_a_clear_message(tmp_path):
    cfg = TrainConfig(dataset="digits", latent_dim=2, epochs=3, lr=1e9, lr_schedule="constant", options={"hidden_units": 32},
                      jit_compile=False)
    with pytest.raises(TrainingDiverged, match="lower --lr"):
        train(cfg, tmp_path / "run", verbose=0)


@pytest.mark.parametrize("args,fragment", [(["--latent-dim", "0"], "latent-dim"), (["--beta", "-1"], "beta"),
                                           (["--epochs", "0"], "epochs"), (["--lr", "-1"], "lr")])
def test_cli_refuses_out_of_range_arguments(tmp_path, args, fragment):
    r = subprocess.run(TRAIN + TINY + ["--out", str(tmp_path / "b")] + args, capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode != 0 and fragment in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "b").exists()


def test_config_refuses_bad_values():
    with pytest.raises(VAEError, match="val-fraction"):
        TrainConfig(val_fraction=1.5)


def test_killed_run_resumes_from_last_completed_epoch(tmp_path):
    out, run = tmp_path / "bundle", tmp_path / "run"
    cmd = TRAIN + TINY + ["--out", str(out), "--run-dir", str(run), "--epochs", "60"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    state = run / "state.json"
    deadline = time.time() + 120
    while time.time() < deadline and not (state.exists() and json.loads(state.read_text())["epoch"] >= 2):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = json.loads(state.read_text())["epoch"]
    assert 2 <= done < 60 and not out.exists()
    r = subprocess.run(TRAIN + TINY + ["--out", str(out), "--run-dir", str(run), "--epochs", str(done + 2), "--resume"],
                       cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"Resuming {run} after epoch {done}" in r.stdout
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == done + 2  # the finished epochs were kept, not repeated


def test_mirrored_strategy_runs_on_cpu_and_tensorboard_logs(tmp_path):
    cfg = TrainConfig(dataset="digits", latent_dim=2, epochs=1, options={"hidden_units": 32}, strategy="mirrored")
    model, history, info = train(cfg, tmp_path / "run", verbose=0, tensorboard=True)
    assert len(history["loss"]) == 1 and info["training"]["strategy"] == "mirrored"
    assert any((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents.*"))


def test_kl_warmup_lets_more_information_into_the_latents(tmp_path):
    """With beta ramped up from 0, the first epochs penalise KL less, so the posterior carries more of it."""
    kls = {}
    for warmup in (0.0, 50.0):
        cfg = TrainConfig(dataset="digits", latent_dim=4, epochs=2, options={"hidden_units": 32}, kl_warmup=warmup)
        _, history, _ = train(cfg, tmp_path / f"run{warmup}", verbose=0)
        kls[warmup] = history["val_kl"][-1]
        assert history["val_loss"][-1] == pytest.approx(history["val_reconstruction"][-1] + history["val_kl"][-1], rel=1e-4)
    assert kls[50.0] > 2 * kls[0.0], kls


# ------------------------------------------------------------------------------- damaged state.json

def _good_state() -> dict:
    import dataclasses

    return {"epoch": 1, "best_val_loss": 30.5, "checkpoint": "checkpoint-0001.keras", "checkpoint_sha256": "0" * 64,
            "best": "best-0001.weights.npz", "config": dataclasses.asdict(TrainConfig(dataset="digits", epochs=3)),
            "history": {"loss": [31.0], "val_loss": [30.5]}}


def _with(**changes):
    state = _good_state()
    for key, value in changes.items():
        if key.startswith("config_"):
            state["config"][key[7:]] = value
        else:
            state[key] = value
    return json.dumps(state)


@pytest.mark.parametrize("text,fragment", [
    ("[]", "it holds a JSON list, where an object is needed"),
    ("Infinity", "it holds a JSON float, where an object is needed"),
    ("{", "it is not valid JSON"),
    ("[" * 50_000 + "]" * 50_000, "it nests deeper than"),
    (_with(epoch="@@").replace('"@@"', "Infinity"), "its epoch is not a whole number"),
    (_with(epoch="3"), "its epoch is not a whole number"),
    (_with(epoch=True), "its epoch is not a whole number"),
    (_with(surprise=1), 'it has 1 unknown key(s), the first "surprise"'),
    (_with(config_momentum=0.9), 'its config has 1 unknown setting(s), the first "momentum"'),
    (_with(config_latent_dim="16"), "its config setting latent_dim is not an int"),
    (_with(config_lr="@@").replace('"@@"', "NaN"), "its config setting lr is not a float"),
    (_with(config_hidden_units=2_000_000_000), "its config is out of range (--hidden-units must be between 0 and"),
    (_with(config=[1]), "its config is not a JSON object"),
    (_with(history=[1.0]), "its history is not a mapping of lists of finite numbers"),
    (_with(checkpoint="../../etc/passwd"), "its checkpoint is not the name of a file in the run folder"),
    (_with(best=5), "its best is not the name of a file in the run folder"),
    ({"fifo": True}, "it is not a regular file"),
], ids=["list", "infinity", "truncated", "deep", "epoch_inf", "epoch_str", "epoch_bool", "unknown_key", "unknown_setting",
        "setting_str", "setting_nan", "setting_huge", "config_list", "history_list", "checkpoint_path", "best_int", "fifo"])
def test_a_damaged_state_json_is_one_sentence_on_resume(tmp_path, capsys, text, fragment):
    """--resume on a run folder whose state.json was edited or broken: "state.json is damaged: ...;
    start again with --restart", exit 1, nothing written (these used to be tracebacks)."""
    from scripts.train import main

    run = tmp_path / "run"
    run.mkdir()
    if isinstance(text, dict):
        os.mkfifo(run / "state.json")  # read without O_NONBLOCK, this would block forever
    else:
        (run / "state.json").write_text(text)
    code = main(["--dataset", "digits", "--out", str(tmp_path / "b"), "--run-dir", str(run), "--resume", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith(f"error: {run / 'state.json'} is damaged: "), err
    assert fragment in err and err.endswith("; start again with --restart.") and "\n" not in err
    assert not (tmp_path / "b").exists() and sorted(p.name for p in run.iterdir()) == ["state.json"]


def test_a_well_formed_state_gets_as_far_as_its_missing_checkpoint(tmp_path):
    """The control: the state above passes every check and is refused only for its absent checkpoint."""
    from vae.training import load_state

    (tmp_path / "state.json").write_text(_with())
    with pytest.raises(VAEError, match='names the checkpoint "checkpoint-0001.keras", which is missing: start again '
                                       "with --restart"):
        load_state(tmp_path)


# ------------------------------------------------------------------------------- schedules, clipping, anchor

def test_kl_weight_schedules():
    from vae.model import kl_weight

    assert [round(float(kl_weight(i, 4, 0)), 2) for i in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    cyc = [round(float(kl_weight(i, 0, 8)), 2) for i in range(17)]
    assert cyc[:8] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0] and cyc[8:16] == cyc[:8] and cyc[16] == 0.25
    assert float(kl_weight(1000)) == 1.0


def test_cycles_and_clipping_reach_the_model_and_optimizer(tmp_path):
    cfg = TrainConfig(dataset="digits", latent_dim=2, epochs=2, options={"hidden_units": 16}, kl_cycles=2,
                      clip_norm=1.5, max_train=400)
    model, history, info = train(cfg, tmp_path / "run", verbose=0)
    steps = (400 - 40) // cfg.batch_size
    assert model.kl_cycle_steps == steps and model.optimizer.global_clipnorm == 1.5
    assert info["training"]["kl_cycles"] == 2 and len(history["loss"]) == 2


def test_two_kl_schedules_at_once_are_refused():
    with pytest.raises(VAEError, match="two KL schedules"):
        TrainConfig(dataset="digits", kl_cycles=2, kl_warmup=1)


def test_no_latent_trains_the_decoder_alone_and_scores_it_exactly(tmp_path):
    """The anchor: the encoder gets no gradient (its weights stay as initialised), validation has no KL."""
    import keras
    import numpy as np

    from vae.model import VAE

    cfg = TrainConfig(dataset="digits", latent_dim=2, epochs=2, options={"hidden_units": 16}, no_latent=True)
    model, history, _ = train(cfg, tmp_path / "run", verbose=0)
    keras.utils.set_random_seed(cfg.seed)    # as train() does before it builds the model
    fresh = VAE(**cfg.model_kwargs(_digits()))
    for w_trained, w_init in zip(model.encoder.get_weights(), fresh.encoder.get_weights()):
        np.testing.assert_allclose(w_trained, w_init)
    assert not all(np.allclose(a, b) for a, b in zip(model.decoder.get_weights(), fresh.decoder.get_weights()))
    assert history["val_kl"] == [0.0, 0.0] and history["val_reconstruction"][1] < history["val_reconstruction"][0]


def _digits():
    from vae.data import load_dataset

    return load_dataset("digits", "image", **TrainConfig(dataset="digits").data_options())


def test_augment_and_schedule_switches_on_the_command_line(tmp_path):
    from vae.cli import add_options, given
    import argparse
    import dataclasses

    p = argparse.ArgumentParser()
    add_options(p, dataclasses.fields(TrainConfig))
    args = given(p.parse_args(["--no-augment", "--kl-cycles", "4", "--no-latent"]), dataclasses.fields(TrainConfig))
    cfg = TrainConfig(**args)
    assert cfg.augment is False and cfg.kl_cycles == 4 and cfg.no_latent is True
    assert TrainConfig(**given(p.parse_args([]), dataclasses.fields(TrainConfig))).augment is True
