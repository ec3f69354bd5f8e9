"""The notebooks in a real JupyterLab, as an analyst runs them: the server started
headless on a free port in a temporary copy of notebooks/ and the sample, each notebook
opened in Chromium and "Run All Cells" chosen from the Run menu; the saved notebook must
have run every code cell without an error output. The time of each Run All is reported
beside the same page's time in the session's review run (``-rP`` shows it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from .conftest import REPO, SAMPLE

TOKEN = "cxassess-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict | list:
    """GET a Jupyter server API; a kernel being started or shut down can answer 500 for a
    moment: asked again up to 10 times."""
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    for attempt in range(10):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code != 500 or attempt == 9:
                raise AssertionError(f"{url}: {error}") from None
            time.sleep(1)
    raise AssertionError(url)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A headless JupyterLab serving a copy of notebooks/ beside a copy of the sample."""
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed (lab extra)")
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(SAMPLE, root / "data" / "sample")
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".jupyter"), "JUPYTERLAB_SETTINGS_DIR": str(root / ".lab"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".ws"), "IPYTHONDIR": str(root / ".ipython")}
    command = [str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root / 'notebooks'}",
               "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(root / "lab.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, cwd=root / "notebooks", env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                _get(f"{base}/api/status")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"jupyter lab exited: {(root / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"jupyter lab did not answer: {(root / 'lab.log').read_text()[-2000:]}")
        yield base, root / "notebooks"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _idle(base: str, since: float, timeout: float) -> None:
    """Wait until every kernel has been idle for 3 s (Run All sends every cell at once)."""
    quiet = None
    while time.monotonic() - since < timeout:
        kernels = _get(f"{base}/api/kernels")
        busy = not kernels or any(k["execution_state"] != "idle" for k in kernels)
        if busy:
            quiet = None
        elif quiet is None:
            quiet = time.monotonic()
        elif time.monotonic() - quiet >= 3:
            return
        time.sleep(0.5)
    pytest.fail(f"the notebook still runs after {timeout:.0f} s")


@pytest.mark.slow
@pytest.mark.browser
def test_every_notebook_runs_all_in_jupyterlab_without_an_error(lab, browser, sample_review, record_property):
    base, folder = lab
    review_seconds = {p["notebook"]: p["seconds"] for p in
                      json.loads((sample_review / "manifest.json").read_text())["pages"]}
    timings = {}
    for path in sorted(folder.glob("*.ipynb")):
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        try:
            page.goto(f"{base}/lab/tree/{path.name}?reset&token={TOKEN}")  # no tab restored from before
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            _idle(base, time.monotonic(), 120)  # the kernel has started
            started = time.monotonic()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            time.sleep(1)
            _idle(base, started, 600)
            timings[path.name] = round(time.monotonic() - started - 3, 1)
            page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Save Notebook$")).first.click()
            time.sleep(2)
        finally:
            page.close()
        for kernel in _get(f"{base}/api/kernels"):  # one kernel at a time, as an analyst works
            request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}", method="DELETE",
                                             headers={"Authorization": f"token {TOKEN}"})
            try:
                urllib.request.urlopen(request, timeout=30).close()
            except urllib.error.HTTPError as error:  # already shutting down when the page closed
                print(f"shutting down kernel {kernel['id']}: {error}")
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.get("execution_count") for c in code), (path.name, "not every cell ran")
        errors = [o.get("ename") for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == [], (path.name, errors)
    assert len(timings) >= 4
    for name, seconds in timings.items():
        line = f"{name}: Run All in JupyterLab {seconds} s, in the review run {review_seconds.get(name, '?')} s"
        print(line)
        record_property(name, line)
