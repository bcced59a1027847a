"""The tutorials in a real JupyterLab, driven by headless Chromium as a learner would use it.

A JupyterLab server starts on 127.0.0.1 over a scratch copy of notebooks/ (so the files the
notebooks write land next to the copy). For each tutorial Chromium opens it, runs
"Run All" and then checks what a learner sees on the page:

* no error output in any cell;
* every figure is a picture (never the text ``<Figure size ...>``);
* every picture fits the output area: no graph runs off to the right behind a scroll bar;
* the backprop stepper moves: "next" changes its caption and its picture, and all of its
  frames have one size, so nodes do not jump sideways from step to step;
* saved, closed and reopened with no kernel running, the stepper still works.

Uses Debian's chromium and chromedriver by explicit path (selenium downloads nothing); skips
cleanly where they, or JupyterLab, are not installed.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TUTORIALS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKEN = "glassgrad-test"
WINDOW = (1600, 1100)         # a laptop screen: the output area is about 1,150 px wide
RUN_ALL_TIMEOUT = 300         # seconds for one notebook's "Run All"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over a scratch copy of notebooks/; yields its base URL."""
    pytest.importorskip("jupyterlab")
    scratch = tmp_path_factory.mktemp("lab")
    root = scratch / "root"
    shutil.copytree(NOTEBOOKS, root)
    settings = scratch / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "get notified about Jupyter news?" toast, and no update check (there is no network).
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = _free_port()
    environment = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    environment.update(JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
                       JUPYTER_CONFIG_DIR=str(scratch / "config"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={root}", "--expose-app-in-browser",
               f"--LabApp.user_settings_dir={scratch / 'settings'}",
               f"--LabApp.workspaces_dir={scratch / 'workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(scratch / "server.log", "w")
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited: {(scratch / 'server.log').read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            return True
        except OSError:
            return False

    try:
        _wait_for(up, 120, "JupyterLab to start")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian: apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never fetch a browser
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


# --- talking to JupyterLab through its own application object (window.jupyterapp) ---------

_KERNEL_STATUS = """
const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
const kernel = panel && panel.sessionContext && panel.sessionContext.session
               && panel.sessionContext.session.kernel;
return kernel ? kernel.status : null;"""

_PROGRESS = """
const panel = window.jupyterapp.shell.currentWidget, cells = panel.content.model.cells;
let code = 0, run = 0;
for (let i = 0; i < cells.length; i++) {
  const cell = cells.get(i);
  if (cell.type === 'code') { code++; if (cell.executionCount) { run++; } }
}
return [code, run];"""

_OUTPUTS = """
const panel = window.jupyterapp.shell.currentWidget, cells = panel.content.model.cells;
const found = [];
for (let i = 0; i < cells.length; i++) {
  const cell = cells.get(i);
  if (cell.type === 'code') { found.push([i, cell.outputs.toJSON()]); }
}
return found;"""

# What a learner sees: each output's mime type, its text, and how wide it is drawn.
_RENDERED = """
const area = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
return Array.from(area.querySelectorAll('.jp-OutputArea-output')).map(function (output) {
  const picture = output.querySelector('img, svg, iframe');
  return {mime: output.dataset.mimeType || '', text: output.innerText.slice(0, 200),
          available: output.clientWidth, scroll: output.scrollWidth,
          picture: picture ? picture.getBoundingClientRect().width : null,
          tag: picture ? picture.tagName.toLowerCase() : null};
});"""


def open_notebook(driver, lab: str, name: str) -> None:
    driver.get(f"{lab}/lab/tree/{name}?token={TOKEN}&reset")
    _wait_for(lambda: driver.execute_script(
        "return !!(window.jupyterapp && document.querySelector('.jp-NotebookPanel .jp-Notebook'))"),
        120, f"{name} to open")


def run_all(driver, name: str) -> None:
    _wait_for(lambda: driver.execute_script(_KERNEL_STATUS) == "idle", 120, f"{name}'s kernel")
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def finished() -> bool:
        code, run = driver.execute_script(_PROGRESS)
        return run == code and driver.execute_script(_KERNEL_STATUS) == "idle"

    _wait_for(finished, RUN_ALL_TIMEOUT, f"Run All of {name}", interval=1.0)
    time.sleep(1.0)  # let the last outputs render


def error_outputs(driver) -> list[str]:
    return [f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
            for index, outputs in driver.execute_script(_OUTPUTS)
            for output in outputs if output.get("output_type") == "error"]


@pytest.fixture(scope="module")
def ran(lab, browser):
    """{notebook name: what the learner saw after Run All}, each notebook run once."""
    seen: dict[str, dict] = {}

    def run(name: str) -> dict:
        if name not in seen:
            open_notebook(browser, lab, name)
            run_all(browser, name)
            seen[name] = {"errors": error_outputs(browser),
                          "rendered": browser.execute_script(_RENDERED)}
            browser.execute_script("return window.jupyterapp.commands.execute('docmanager:save')")
        return seen[name]

    return run


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_run_all_shows_no_error(ran, path):
    assert ran(path.name)["errors"] == []


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_figures_show_as_pictures_not_as_text(ran, path):
    as_text = [r["text"] for r in ran(path.name)["rendered"] if r["text"].startswith("<Figure size")]
    assert as_text == []


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_every_picture_fits_the_output_area(ran, path):
    too_wide = [r for r in ran(path.name)["rendered"]
                if r["picture"] is not None and (r["picture"] > r["available"] + 1
                                                 or r["scroll"] > r["available"] + 1)]
    assert too_wide == []


def test_pictures_were_actually_found(ran):
    """The fit test is not vacuous: 02 draws graphs, 05 plots figures."""
    for name, tags in (("02_value.ipynb", {"img", "svg"}), ("05_training_moons.ipynb", {"img"})):
        assert {r["tag"] for r in ran(name)["rendered"]} & tags, name


def _stepper_frame(driver):
    """Switch into the stepper's frame on the page; return (caption, visible picture, sizes)."""
    from selenium.webdriver.common.by import By

    caption = driver.find_element(By.ID, "caption").text
    frames = driver.find_elements(By.CSS_SELECTOR, "section.frame")
    visible = [frame for frame in frames if frame.is_displayed()]
    assert len(visible) == 1
    picture = visible[0].get_attribute("innerHTML")
    sizes = {(svg.get_attribute("width"), svg.get_attribute("height"))
             for svg in driver.find_elements(By.CSS_SELECTOR, "section.frame svg")}
    return caption, picture, sizes


def _check_stepper_moves(driver) -> None:
    from selenium.webdriver.common.by import By

    try:
        frames = _wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output iframe"),
                           30, "the stepper to show")
    except TimeoutError:
        raise AssertionError("no stepper on the page") from None
    driver.switch_to.frame(frames[-1])
    try:
        _wait_for(lambda: driver.find_elements(By.ID, "caption"), 30, "the stepper page to load")
        before = _stepper_frame(driver)
        driver.find_element(By.ID, "next").click()
        after = _stepper_frame(driver)
        assert after[0] != before[0], "the caption did not change"
        assert after[1] != before[1], "the picture did not change"
        assert len(before[2]) == 1, f"the frames differ in size, so nodes jump: {before[2]}"
    finally:
        driver.switch_to.default_content()


def test_the_stepper_moves_and_its_picture_changes(lab, browser):
    # Run here, not through `ran`: the browser must show this notebook's live outputs, and
    # `ran` may since have opened other notebooks in their place.
    open_notebook(browser, lab, "03_backprop_stepper.ipynb")
    run_all(browser, "03_backprop_stepper.ipynb")
    assert error_outputs(browser) == []
    _check_stepper_moves(browser)
    browser.execute_script("return window.jupyterapp.commands.execute('docmanager:save')")


def test_a_saved_notebook_reopened_without_a_kernel_still_has_a_working_stepper(ran, lab, browser):
    ran("03_backprop_stepper.ipynb")  # run and saved
    browser.execute_script("window.jupyterapp.commands.execute('kernelmenu:shutdown')")
    browser.execute_script("window.jupyterapp.commands.execute('application:close-all')")
    time.sleep(1.0)
    open_notebook(browser, lab, "03_backprop_stepper.ipynb")
    time.sleep(2.0)
    rendered = browser.execute_script(_RENDERED)
    assert not any("Error displaying widget" in r["text"] for r in rendered)
    _check_stepper_moves(browser)
