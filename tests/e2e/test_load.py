"""scripts/loadtest.py in CI: two browser sessions drag and slide against one server for ~15 s.
By hand, with more: python scripts/loadtest.py --sessions 1 5 20 --seconds 60."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.browser import CHROMIUM, ROOT

pytestmark = pytest.mark.e2e


def test_two_sessions_under_load_see_no_errors_and_keep_their_own_point(e2e_bundle, tmp_path):
    pytest.importorskip("playwright.async_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    out = tmp_path / "load.json"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "loadtest.py"), "--bundle", str(e2e_bundle),
                        "--sessions", "2", "--seconds", "15", "--json", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert out.exists(), r.stdout[-3000:] + r.stderr[-3000:]
    level = json.loads(out.read_text())["levels"][0]
    assert level["errors"] == 0 and level["timeouts"] == 0, level["error_samples"]
    assert level["server_tracebacks_so_far"] == 0
    assert level["isolation"] == {"sessions_kept_their_own_point": 2, "distinct_points": 2, "sessions": 2}
    assert level["interactions"] >= 4 and level["pad_ms"]["n"] > 0 and level["decodes"] > 0
    assert level["rss_mb"]["peak"] > 0 and r.returncode == 0, r.stdout[-2000:]
