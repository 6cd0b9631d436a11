"""The HTML page in a real headless Chromium (Playwright driving Debian's
chromium): step through the backward pass, check every number shown, the
keys, escaping and that nothing is fetched from the network.

This test fails (it does not skip) when the browser is missing: install it
with ``apt-get install -y chromium`` (the path can be overridden with the
CHROMIUM environment variable). A screenshot of each finished page is saved
under test-artifacts/ (gitignored).
"""
import os
import re
from pathlib import Path

import pytest

import chainrule as cr
from chainrule.viz import explain, graph

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install it with "
                    f"'apt-get update && apt-get install -y chromium' (or set CHROMIUM)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A loaded page that records console errors and any network request."""

    def __init__(self, browser, html, tmp_path, name):
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        self.page = browser.new_page(viewport={"width": 1100, "height": 760})
        self.errors, self.requests = [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route(re.compile(r"^(?!file:).*"), self._block)
        self.page.goto(path.as_uri())
        self.name = name

    def _block(self, route):
        self.requests.append(route.request.url)
        route.abort()

    def grad(self, label):
        return self.page.locator(f'.tensor[data-label="{label}"] text.grad').text_content()

    def math(self):
        return [t.strip() for t in self.page.locator("#cr-panel .cr-math").all_text_contents()]

    def counter(self):
        return self.page.locator("#cr-counter").text_content()

    def next(self):
        self.page.click("#cr-next")

    def finish(self):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}.png"), full_page=True)
        assert self.errors == []
        assert self.requests == []
        self.page.close()


def test_add_mul_circuit_step_by_step(browser, tmp_path):
    e = explain("(x + y) * z", x=-2, y=5, z=-4)
    page = Page(browser, e.graph.to_html(), tmp_path, "explain-add-mul")
    assert page.counter() == "step 0 of 2"
    assert page.grad("f") == "1.0"                            # the seed
    assert [page.grad(n) for n in ("x", "y", "z", "x + y")] == ["", "", "", ""]
    assert page.page.locator("#cr-prev").is_disabled()
    page.next()
    assert "MulBackward" in page.page.locator("#cr-panel").text_content()
    assert page.math() == ["1.0 \u00d7 -4.0 = -4.0", "1.0 \u00d7 3.0 = 3.0"]
    assert page.page.locator('.gate.current').count() == 1
    assert [page.grad(n) for n in ("x + y", "z", "x")] == ["-4.0", "3.0", ""]
    page.next()
    assert page.math() == ["-4.0 \u00d7 1.0 = -4.0", "-4.0 \u00d7 1.0 = -4.0"]
    assert [page.grad(n) for n in ("x", "y", "z")] == ["-4.0", "-4.0", "3.0"]
    assert "every gradient is filled in" in page.page.locator("#cr-panel").text_content()
    assert page.page.locator("#cr-next").is_disabled()
    page.page.keyboard.press("ArrowLeft")
    assert page.counter() == "step 1 of 2" and page.grad("x") == ""
    page.page.keyboard.press("ArrowRight")
    assert page.counter() == "step 2 of 2" and page.grad("x") == "-4.0"
    page.page.click("#cr-prev")
    page.page.click("#cr-prev")
    assert page.counter() == "step 0 of 2" and page.grad("z") == ""
    for _ in range(2):
        page.next()
    page.finish()


def click_through(page):
    steps = int(page.counter().split()[-1])
    for k in range(steps):
        page.next()
        assert page.counter() == f"step {k + 1} of {steps}"
    assert page.page.locator("#cr-next").is_disabled()


def test_sigmoid_neuron_page(browser, tmp_path):
    e = explain("1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    page = Page(browser, e.graph.to_html(), tmp_path, "explain-sigmoid-neuron")
    click_through(page)
    assert [page.grad(n) for n in ("x0", "x1")] == ["0.3932", "-0.5898"]
    assert [page.grad(n) for n in ("w0", "w1", "w2")] == ["-0.1966", "-0.3932", "0.1966"]
    assert page.page.locator('.tensor[data-label="f"] text.value').text_content() == "0.7311"
    page.finish()


def test_max_circuit_page_and_fan_out(browser, tmp_path):
    e = explain("2*(x*y + max(z, w)) + x", x=3, y=-4, z=2, w=-1)
    page = Page(browser, e.graph.to_html(), tmp_path, "explain-max")
    click_through(page)
    # x is used twice: -8 from x*y, +1 from "+ x"
    assert [page.grad(n) for n in ("x", "y", "z", "w")] == ["-7.0", "6.0", "2.0", "0.0"]
    received = page.page.locator("#cr-panel .cr-received").all_text_contents()
    assert any("x += " in r for r in received) or "x += " in page.page.content()
    page.finish()


def test_user_names_are_shown_not_run(browser, tmp_path):
    img = "<img src=x onerror=window.__pwned=1>"
    script = "<script>window.__pwned=2</script>"
    a = cr.Tensor([1.5, -2.0], requires_grad=True, name=img)
    b = cr.Tensor(0.5, requires_grad=True, name=script)
    page = Page(browser, graph((a * b).sum()).to_html(), tmp_path, "escaped-names")
    click_through(page)
    assert page.page.evaluate("window.__pwned") is None
    labels = page.page.locator(".tensor text.label").all_text_contents()
    assert img in labels and script in labels
    panel = page.page.locator("#cr-panel").text_content()
    assert img in panel and script in panel
    assert page.page.locator("img").count() == 0
    page.finish()
