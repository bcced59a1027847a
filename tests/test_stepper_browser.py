"""The stepper page in real headless Chromium: buttons and arrow keys move the frames,
and the caption and highlighted node change exactly as viz.stepper's frames say.

Uses Debian's chromium and chromedriver by explicit path (selenium never downloads
anything); skips cleanly where they are not installed.
"""
from pathlib import Path

import pytest

from glassgrad.engine import Value
from glassgrad.viz import step_views, stepper_html

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path, monkeypatch):
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian: apt-get install chromium chromium-driver)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # belt and braces: selenium-manager must not fetch
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def expression():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    L = (c + a).tanh()  # a is used twice: its grad is "so far" for one step
    L.label = "L"
    return L


def shown(driver):
    """(frame index, highlighted node per the DOM hook, per the visible picture, caption)."""
    By = pytest.importorskip("selenium.webdriver.common.by").By
    stepper = driver.find_element(By.ID, "stepper")
    visible = [s for s in driver.find_elements(By.CSS_SELECTOR, "section.frame") if s.is_displayed()]
    assert len(visible) == 1
    pictured = visible[0].find_element(By.CSS_SELECTOR, "g.node.highlight title").get_attribute("textContent")
    caption = driver.find_element(By.ID, "caption").get_attribute("textContent")
    return int(stepper.get_attribute("data-current")), stepper.get_attribute("data-highlight"), pictured, caption


def test_next_button_and_arrow_keys_step_through_the_frames(browser, tmp_path):
    By = pytest.importorskip("selenium.webdriver.common.by").By
    Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys
    L = expression()
    path = tmp_path / "stepper.html"
    stepper_html(L, path)
    expected = [(k, view.node, view.node, view.caption) for k, view in enumerate(step_views(L))]
    assert len(expected) >= 4

    browser.get(path.as_uri())
    assert shown(browser) == expected[0]
    assert not browser.find_element(By.ID, "prev").is_enabled()

    browser.find_element(By.ID, "next").click()
    assert shown(browser) == expected[1]
    assert "dL/dL = 1.0" in expected[1][3]

    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert shown(browser) == expected[2]
    assert expected[2][1] != expected[1][1]  # a different node is highlighted now

    body.send_keys(Keys.ARROW_LEFT)
    assert shown(browser) == expected[1]

    body.send_keys(Keys.END)
    assert shown(browser) == expected[-1]
    assert not browser.find_element(By.ID, "next").is_enabled()
    slider = browser.find_element(By.ID, "slider")
    assert slider.get_attribute("value") == str(len(expected) - 1)

    body.send_keys(Keys.HOME)
    assert shown(browser) == expected[0]
    slider.send_keys(Keys.ARROW_RIGHT)  # the slider moves one step (not two)
    assert shown(browser) == expected[1]
