"""The stepper page in real headless Chromium: buttons and arrow keys move the frames,
and the caption and highlighted node change exactly as viz.stepper's frames say.

Uses Debian's chromium and chromedriver by explicit path (selenium never downloads
anything); skips cleanly where they are not installed.
"""
from pathlib import Path

import pytest

from glassgrad.engine import Value
from glassgrad.viz import index_graph, step_views, stepper_html

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


# ------------------------------------------------------------------ quiz mode


def quiz_expression():
    """L = k * (a*b + a) at a = 2, b = -3, k = 3. In backward's order the steps give
    (k, d) = (-4, 3), then (c, a) = (3, 3), then (a, b) = (-6, 6): a's 3 is kept and added to."""
    a, b, k = Value(2.0, label="a"), Value(-3.0, label="b"), Value(3.0, label="k")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    L = k * d
    L.label = "L"
    return L


def open_quiz(driver, tmp_path):
    L = quiz_expression()
    path = tmp_path / "quiz.html"
    stepper_html(L, path, quiz=True)
    driver.get(path.as_uri())
    return step_views(L)


def state(driver):
    """(frame shown, frame asked about or "", frames revealed so far)."""
    By = pytest.importorskip("selenium.webdriver.common.by").By
    stepper = driver.find_element(By.ID, "stepper")
    return (int(stepper.get_attribute("data-current")), stepper.get_attribute("data-asking"),
            int(stepper.get_attribute("data-revealed")))


def feedback(driver):
    """(verdict, [(input, verdict, mistake code) per answer])."""
    By = pytest.importorskip("selenium.webdriver.common.by").By
    box = driver.find_element(By.ID, "feedback")
    items = [(li.get_attribute("data-input"), li.get_attribute("data-verdict"),
              li.get_attribute("data-mistake")) for li in box.find_elements(By.TAG_NAME, "li")]
    return box.get_attribute("data-verdict"), items


def active(driver):
    element = driver.switch_to.active_element
    return element.get_attribute("data-input") or element.get_attribute("id") or element.tag_name


def test_quiz_asks_before_each_step_then_names_the_mistake_and_reveals_it(browser, tmp_path):
    Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys
    views = open_quiz(browser, tmp_path)
    assert len(views) == 4 and state(browser) == (0, "", 0)

    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert state(browser) == (0, "1", 0)  # the question, under the picture of frame 0
    assert active(browser) == "k"         # the first answer box has the focus
    browser.switch_to.active_element.send_keys("-4", Keys.TAB, "3.0", Keys.ENTER)
    assert feedback(browser) == ("right", [("k", "right", ""), ("d", "right", "")])
    assert state(browser) == (1, "", 1) and shown(browser)[3] == views[1].caption

    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)  # the focus left the box
    assert state(browser) == (1, "2", 1) and active(browser) == "c"
    browser.switch_to.active_element.send_keys("1", Keys.TAB, "3", Keys.ENTER)
    assert feedback(browser) == ("wrong", [("c", "wrong", "missing_chain_factor"),
                                           ("a", "right", "")])
    assert state(browser) == (2, "", 2)  # revealed all the same, with the right numbers
    assert shown(browser)[3] == views[2].caption

    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert feedback(browser) == ("", [])  # a new question: the last answer's feedback is gone
    browser.switch_to.active_element.send_keys("-9", Keys.TAB, "-6", Keys.ENTER)  # = for +=, sign
    assert feedback(browser) == ("wrong", [("a", "wrong", "overwrote_grad"),
                                           ("b", "wrong", "sign_error")])
    By = pytest.importorskip("selenium.webdriver.common.by").By
    text = browser.find_element(By.ID, "feedback").text
    assert "accumulate with += instead of overwriting with =" in text and "sign error" in text
    assert state(browser) == (3, "", 3)
    assert browser.find_element(By.ID, "score").text == "Right: 1 of 3 steps"


def test_quiz_works_from_the_keyboard_alone(browser, tmp_path):
    By = pytest.importorskip("selenium.webdriver.common.by").By
    Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys
    views = open_quiz(browser, tmp_path)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)                       # cannot jump past a question
    assert state(browser) == (0, "1", 0) and active(browser) == "k"

    box = browser.switch_to.active_element
    box.send_keys("-3", Keys.ARROW_LEFT, Keys.ARROW_LEFT, "1")   # arrows move the cursor only
    assert box.get_attribute("value") == "1-3" and state(browser) == (0, "1", 0)
    box.clear()
    box.send_keys(Keys.SHIFT, Keys.TAB)            # back out of the box to the next button ...
    assert active(browser) == "next"
    browser.switch_to.active_element.send_keys(Keys.TAB)  # ... and Tab comes back to it
    assert active(browser) == "k"

    browser.switch_to.active_element.send_keys("minus four", Keys.ENTER)   # not a number
    assert feedback(browser)[0] == "unreadable" and state(browser) == (0, "1", 0)
    assert active(browser) == "k"                  # still asking, the box keeps the focus
    box = browser.switch_to.active_element
    box.clear()
    box.send_keys("-4", Keys.TAB, "3", Keys.ENTER)
    assert state(browser) == (1, "", 1)

    browser.switch_to.active_element.send_keys(Keys.ARROW_LEFT)   # back and forth is free ...
    assert state(browser) == (0, "", 1)
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert state(browser) == (1, "", 1)
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)  # ... up to the next question
    assert state(browser) == (1, "2", 1)
    assert shown(browser)[3] == views[1].caption


def test_hovering_or_focusing_an_op_node_shows_its_local_derivatives(browser, tmp_path):
    By = pytest.importorskip("selenium.webdriver.common.by").By
    Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys
    ActionChains = pytest.importorskip("selenium.webdriver").ActionChains
    open_quiz(browser, tmp_path)
    formula = browser.find_element(By.ID, "formula")

    browser.switch_to.active_element.send_keys(Keys.TAB)
    for _ in range(6):  # Tab past the controls to the first op of the picture
        if browser.switch_to.active_element.get_attribute("data-op"):
            break
        browser.switch_to.active_element.send_keys(Keys.TAB)
    order = index_graph(quiz_expression()).order

    def from_the_op_table(op_name, text):
        op = order[int(op_name.removeprefix("op"))].op
        return op.formula in text and all(f"dout/d{v} = {d}" in text
                                          for v, d in zip("xy", op.derivatives))

    focused = browser.switch_to.active_element.get_attribute("data-op")
    assert focused and formula.get_attribute("data-op") == focused
    assert from_the_op_table(focused, formula.text)

    visible = [s for s in browser.find_elements(By.CSS_SELECTOR, "section.frame") if s.is_displayed()][0]
    other = [g for g in visible.find_elements(By.CSS_SELECTOR, "g.node[data-op]")
             if g.get_attribute("data-op") != focused][0]
    ActionChains(browser).move_to_element(other.find_element(By.TAG_NAME, "ellipse")).perform()
    hovered = other.get_attribute("data-op")
    assert formula.get_attribute("data-op") == hovered and from_the_op_table(hovered, formula.text)
