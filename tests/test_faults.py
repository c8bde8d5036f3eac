"""Faults injected for real: SIGKILL during checkpoint and bundle saves, NaN divergence, a full disk
(RLIMIT_FSIZE: writes fail with EFBIG) and read-only folders. Nothing already saved may be lost."""
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tiny import ROOT
from vae import BundleError, load_bundle
from vae import bundle as bundle_mod
from vae.training import STATE, CheckpointError, TrainConfig, TrainingDiverged, load_state, train

TRAIN = [sys.executable, str(ROOT / "scripts" / "train.py")]
TINY = ["--dataset", "digits", "--latent-dim", "2", "--hidden-units", "32", "--batch-size", "64",
        "--no-evaluate", "--quiet"]


def snapshot(folder: Path) -> dict:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def leftovers(out: Path) -> list:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def kill_when(proc, found, timeout: float = 150.0) -> str | None:
    """SIGKILL proc's group the moment found() returns something (polled every millisecond)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        hit = found()
        if hit:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return hit
        time.sleep(0.001)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return None


def start(args):
    return subprocess.Popen(TRAIN + TINY + args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def limit_file_size(nbytes: int):
    """preexec_fn for a child whose writes past nbytes fail with EFBIG, as on a full disk."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, resource.RLIM_INFINITY))
    return apply


def test_killed_or_out_of_disk_training_loses_nothing(tiny_bundle_dir, tmp_path, capsys):
    """One run through every fault: SIGKILL in a checkpoint save, a full disk at the next checkpoint,
    SIGKILL in the bundle save; each time --resume goes on and the old bundle stays whole."""
    from scripts.train import main

    out, run = tmp_path / "b", tmp_path / "run"
    shutil.copytree(tiny_bundle_dir, out)
    old = snapshot(out)

    # 1. killed while an epoch's checkpoint is being written (its .tmp file exists), epoch >= 2
    proc = start(["--out", str(out), "--run-dir", str(run), "--epochs", "60"])
    hit = kill_when(proc, lambda: next((p.name for p in run.glob(".checkpoint-*.tmp.keras")
                                        if int(p.name[12:16]) >= 2), None) if run.is_dir() else None)
    assert hit, "the checkpoint save was never caught in the act"
    state = load_state(run)  # names a complete checkpoint whose checksum matches
    k = state["epoch"]
    assert k in (int(hit[12:16]) - 1, int(hit[12:16])) and len(state["history"]["loss"]) == k
    assert snapshot(out) == old  # the bundle at --out was never touched
    # what state.json names must survive untouched; a killed save's leftovers are cleared by the next run
    keep = {"state.json", state["checkpoint"], state["best"]}
    before = {name: data for name, data in snapshot(run).items() if name in keep}

    # 2. the disk is full when the next checkpoint is written: one sentence, the run folder unchanged
    r = subprocess.run(TRAIN + TINY + ["--out", str(out), "--run-dir", str(run), "--resume", "--epochs", str(k + 1)],
                       cwd=ROOT, capture_output=True, text=True, timeout=180, preexec_fn=limit_file_size(50_000))
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(errors) == 1, r.stderr[-2000:]
    assert errors[0].startswith(f"error: Could not write the checkpoint of epoch {k + 1}")
    assert "File too large" in errors[0] and "--resume" in errors[0] and one_sentence(errors[0])
    assert snapshot(run) == before and snapshot(out) == old  # and no leftover or temporary behind

    # 3. resumed for one more epoch, killed while the new bundle is assembled (.b.tmp-* exists)
    proc = start(["--out", str(out), "--run-dir", str(run), "--epochs", str(k + 1), "--resume"])
    hit = kill_when(proc, lambda: next((p.name for p in tmp_path.glob(".b.tmp-*")), None))
    assert hit, "the bundle save was never caught in the act"
    b = load_bundle(out)  # old or new, never half: checksums verified, leftovers cleared
    assert snapshot(out) == old or len(json.loads((out / "history.json").read_text())["loss"]) == k + 1
    assert leftovers(out) == [] and b.latent_dim in (2, 4)

    # 4. --resume with nothing left to train just saves the bundle
    assert main(["--out", str(out), "--run-dir", str(run), "--resume", "--no-evaluate", "--quiet"]) == 0
    assert f"after epoch {k + 1} of {k + 1}" in capsys.readouterr().out
    assert len(json.loads((out / "history.json").read_text())["loss"]) == k + 1
    assert load_bundle(out).latent_dim == 2 and leftovers(out) == []


@pytest.mark.parametrize("stage", ["tmp_half_written", "old_moved_aside", "new_in_place_old_left", "old_half_deleted"])
def test_every_kill_point_of_a_bundle_swap_recovers(tiny_bundle_dir, tmp_path, stage):
    """The files a SIGKILL can leave at each step of transaction(); a reader finds a whole bundle."""
    out = tmp_path / "b"
    shutil.copytree(tiny_bundle_dir, out)
    old = snapshot(out)
    tmp, moved = tmp_path / ".b.tmp-x1", tmp_path / ".b.old-x2"
    shutil.copytree(out, tmp)
    bundle_mod.update_bundle(tmp, meta_updates={"note": "new"})  # a complete, different bundle
    new = snapshot(tmp)
    if stage == "tmp_half_written":
        (tmp / "model.keras").write_bytes(b"half")
    elif stage == "old_moved_aside":
        os.rename(out, moved)
    elif stage == "new_in_place_old_left":
        os.rename(out, moved)
        os.rename(tmp, out)
    else:
        os.rename(out, moved)
        os.rename(tmp, out)
        (moved / "model.keras").unlink()
    b = load_bundle(out)
    assert snapshot(out) == (new if stage in ("new_in_place_old_left", "old_half_deleted") else old)
    assert leftovers(out) == [] and b.meta.get("note") == ("new" if snapshot(out) == new else None)


def test_a_reader_never_clears_a_live_writers_temporary_folder(bundle_copy):
    """load_bundle while a save is in progress (in another thread/process) must not break the save."""
    with bundle_mod.transaction(bundle_copy, start_from=bundle_copy) as tmp:
        assert load_bundle(bundle_copy).meta.get("note") is None  # reads the old bundle meanwhile
        assert tmp.is_dir()  # recover() saw the writer's lock and left its folder alone
        meta = json.loads((tmp / "meta.json").read_text())
        bundle_mod.atomic_write_json(tmp / "meta.json", {**meta, "note": "written"})
    assert load_bundle(bundle_copy).meta["note"] == "written" and leftovers(bundle_copy) == []


def test_two_concurrent_updates_both_land(bundle_copy):
    import threading

    errors = []

    def add(stem):
        try:
            bundle_mod.update_bundle(bundle_copy, arrays={stem: {"a": np.arange(3)}})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(f"x{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    b = load_bundle(bundle_copy)
    assert all(b.has(f"x{i}") for i in range(4))  # no update lost: writers took turns


# ------------------------------------------------------------------------- divergence and disk full

@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A finished 2-epoch run folder (state.json + checkpoint + best weights)."""
    run = tmp_path_factory.mktemp("runs") / "good"
    train(_cfg(epochs=2), run, verbose=0)
    return run


def _cfg(**kw):
    base = dict(dataset="digits", latent_dim=2, batch_size=64, lr=3e-3, options={"hidden_units": 32})
    return TrainConfig(**{**base, **kw})


def test_divergence_keeps_the_last_good_checkpoint_and_resume_goes_on(good_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    before = snapshot(run)
    with pytest.raises(TrainingDiverged, match="in epoch 3: the last good checkpoint is in .*lower --lr"):
        train(_cfg(epochs=4, lr=1e9, lr_schedule="constant"), run, resume=True, verbose=0)
    assert snapshot(run) == before  # nothing of the diverged epoch was written
    # leftovers of a kill between writing a checkpoint and committing state.json
    (run / "checkpoint-0003.keras").write_bytes(b"orphan")
    (run / ".checkpoint-0003.tmp.keras").write_bytes(b"partial")
    model, history, _ = train(_cfg(epochs=3, lr=1e-3), run, resume=True, verbose=0)  # lower --lr, --resume
    assert len(history["loss"]) == 3 and np.isfinite(history["val_loss"]).all()
    assert history["loss"][:2] == json.loads(before[STATE])["history"]["loss"]  # epochs 1-2 kept, not redone
    state = load_state(run)
    assert state["epoch"] == 3 and state["checkpoint"] == "checkpoint-0003.keras"
    assert not (run / ".checkpoint-0003.tmp.keras").exists()


@contextlib.contextmanager
def file_size_limit(nbytes: int):
    """Writes past nbytes fail with EFBIG, as on a full disk (SIGXFSZ ignored so the process lives)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def one_sentence(message: str) -> bool:
    return "\n" not in message.strip() and "Traceback" not in message and message.strip().endswith(".")


def test_disk_full_during_bundle_save_keeps_the_old_bundle(good_run, bundle_copy, tmp_path, capsys):
    """scripts/train.py --resume of a finished run only saves the bundle: that save hits a full disk."""
    from scripts.train import main

    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    old = snapshot(bundle_copy)
    with file_size_limit(50_000):
        rc = main(["--out", str(bundle_copy), "--run-dir", str(run), "--resume", "--no-evaluate", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.startswith("error: Could not save the bundle") and "File too large" in err
    assert one_sentence(err) and snapshot(bundle_copy) == old and leftovers(bundle_copy) == []


def test_disk_full_during_update_in_a_fresh_process(bundle_copy):
    """update_bundle (precompute, evaluate) under a real EFBIG in its own process."""
    code = ("import sys, signal, resource, numpy as np\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, resource.RLIM_INFINITY))\n"
            "from vae import VAEError\nfrom vae.bundle import update_bundle\n"
            "try:\n    update_bundle(sys.argv[1], arrays={'images': {'images': np.random.default_rng(0)"
            ".integers(0, 255, (4000, 28, 28, 1), dtype=np.uint8)}})\n"
            "except VAEError as e:\n    print(e, file=sys.stderr); sys.exit(1)\n")
    old = snapshot(bundle_copy)
    r = subprocess.run([sys.executable, "-c", code, str(bundle_copy)], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "File too large" in r.stderr and one_sentence(r.stderr)
    assert snapshot(bundle_copy) == old and leftovers(bundle_copy) == []


@contextlib.contextmanager
def read_only(folder: Path):
    """A folder nobody can write in: chmod for a normal user, the immutable attribute for root."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root without chattr +i support: no way to make a folder read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.parametrize("which", ["parent", "bundle"])
def test_read_only_folder_keeps_the_bundle_and_says_so(bundle_copy, which):
    old = snapshot(bundle_copy)
    with read_only(bundle_copy.parent if which == "parent" else bundle_copy):
        with pytest.raises(BundleError) as err:
            bundle_mod.update_bundle(bundle_copy, arrays={"x": {"a": np.arange(4)}})
        assert one_sentence(str(err.value)) and "writable" in str(err.value)
        assert load_bundle(bundle_copy).has("x") is False  # still loads, read-only
    assert snapshot(bundle_copy) == old and leftovers(bundle_copy) == []


def test_unwritable_out_path_is_one_sentence(tiny_bundle_dir):
    with pytest.raises(BundleError) as err:
        bundle_mod.save_bundle(Path("/proc/vae_bundle_test/b"), load_bundle(tiny_bundle_dir).model, {})
    assert "choose a writable folder" in str(err.value) and one_sentence(str(err.value))


def test_a_fresh_start_never_overwrites_an_unfinished_run_by_mistake(good_run, tmp_path, capsys):
    from scripts.train import main

    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    state = json.loads((run / STATE).read_text())
    state["config"]["epochs"] = 5  # as if killed after epoch 2 of 5
    (run / STATE).write_text(json.dumps(state))
    before = snapshot(run)
    assert main(["--dataset", "digits", "--out", str(tmp_path / "b"), "--run-dir", str(run), "--no-evaluate"]) == 1
    err = capsys.readouterr().err.strip()
    assert "unfinished run (epoch 2 of 5)" in err and "--resume" in err and "--restart" in err and one_sentence(err)
    assert snapshot(run) == before


def test_disk_full_at_the_first_checkpoint_leaves_no_orphan(tmp_path):
    """Epoch 1's best weights (~180 kB) fit under the limit, its checkpoint (~580 kB, with the optimizer)
    does not: the weights file state.json never named used to stay behind as an orphan."""
    out, run = tmp_path / "b", tmp_path / "run"
    r = subprocess.run(TRAIN + TINY + ["--out", str(out), "--run-dir", str(run), "--epochs", "2"], cwd=ROOT,
                       capture_output=True, text=True, timeout=180, preexec_fn=limit_file_size(300_000))
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(errors) == 1, r.stderr[-2000:]
    assert errors[0].startswith("error: Could not write the checkpoint of epoch 1") and "File too large" in errors[0]
    assert sorted(p.name for p in run.iterdir()) == [] and not out.exists()
