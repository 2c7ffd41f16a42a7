"""Every committed report opened in headless Chromium at 1280 px and at 390 px (a phone), read as
a reviewer would.

Asserts, per report and width: the page is no wider than the window and no element sticks out of
it (except inside a scroll box, where wide tables and wide figures belong); every image loads; no
text node holds a Python repr (dict, numpy scalar, object or dataclass text); headings run h1,
then h2 numbered 1, 2, 3 ... with h3 numbered within their h2; every column header is words (no
``snake_case`` identifiers, no ``@``); no figure is shown with text smaller than 9 CSS px (each
PNG records its smallest font, ``figures.MIN_FONT_KEY``); the summary table's primary probability
(the first table, outside collapsed details, with a ``key`` column or else a ``P(...)`` column)
is on screen without scrolling sideways;
the main body (up to the technical part) with details closed fits the length budget: 12 desktop
screens (1280 x 800) for a report with published results, 6 for a study-level report. And every
committed figure was saved with no two texts overlapping (bounding boxes of its text artists,
checked when saved: ``figures.OVERLAP_KEY``).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without them the
test FAILS and says what to install: it never skips.

``python tests/test_browser.py --screenshots docs/screenshots`` writes the first screen of each
report at 1280 x 800 and at 390 x 844 as PNG (the pictures in the README).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from bayesmeta.report.render import REPR

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
# the committed reports; BAYESMETA_REPORTS=/some/folder checks the reports in its sub-folders instead
REPORTS = sorted(p for p in Path(os.environ.get("BAYESMETA_REPORTS", ROOT / "reports")).glob("*/report.html"))
WIDTH = 1280
PHONE = (390, 844)
SCREEN_H = 800
BUDGET = {"published": 12, "study_level": 6}  # desktop screens for the main body, details closed
MIN_FONT_PX = 9.0
CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]

# what a Python repr looks like: one rule, shared with the renderer (the syntax is valid JavaScript)
REPR_JS = REPR.pattern

PAGE_JS = r"""
const W = document.documentElement.clientWidth;
const inScroll = el => el.closest('.scroll, .figbox, pre, nav, details:not([open])') !== null;
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  if (inScroll(el)) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.right > W + 1 || r.left < -1) wide.push(el.tagName + ' ' + (el.textContent || '').slice(0, 60) + ' right=' + Math.round(r.right));
}
const imgs = Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0, alt: i.alt}));
const re = new RegExp(arguments[0]);
const reprs = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) { const t = walker.currentNode.nodeValue; if (re.test(t)) reprs.push(t.slice(0, 120)); }
const heads = Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6')).map(h => [h.tagName, h.textContent]);
// figures: smallest text as shown (CSS px) = shown width / natural width * smallest font (image px)
const small = [];
for (const i of document.images) {
  const f = parseFloat(i.dataset.minFontPx || 'NaN');
  const w = i.getBoundingClientRect().width;
  if (!isFinite(f)) { small.push((i.alt || '').slice(0, 60) + ': no font record'); continue; }
  if (w > 0 && w / i.naturalWidth * f < arguments[1] - 0.01) small.push((i.alt || '').slice(0, 60) + ': ' + (w / i.naturalWidth * f).toFixed(1) + ' px');
}
// the summary table: the first table with a decisive column (class key, else a P(...) header)
const headers = Array.from(document.querySelectorAll('th')).map(t => t.textContent.trim());
let key = null;
const keyIndex = t => {
  const ths = Array.from(t.querySelectorAll('thead th'));
  const j = ths.findIndex(h => h.classList.contains('key'));
  return j >= 0 ? j : ths.findIndex(h => /^P\(/.test(h.textContent.trim()));
};
const tbl = Array.from(document.querySelectorAll('table')).find(t => keyIndex(t) >= 0 && t.closest('details:not([open])') === null);
if (tbl) {
  const ths = Array.from(tbl.querySelectorAll('thead th'));
  const j = keyIndex(tbl);
  if (j >= 0) {
    const cell = tbl.querySelector('tbody tr').children[j];
    const r = cell.getBoundingClientRect();
    const box = tbl.closest('.scroll').getBoundingClientRect();
    key = {header: ths[j].textContent.trim(), left: r.left, right: r.right, boxLeft: box.left, boxRight: box.right,
           visible: r.width > 0 && r.left >= Math.max(box.left, 0) - 1 && r.right <= Math.min(box.right, W) + 1};
  }
}
// the main body ends at the technical part (the first h2 naming it), else the page ends
const tech = Array.from(document.querySelectorAll('h2')).find(h => /technical|methods|appendix/i.test(h.textContent));
const bodyEnd = tech ? tech.getBoundingClientRect().top + window.scrollY : document.documentElement.scrollHeight;
return {scrollWidth: document.documentElement.scrollWidth, clientWidth: W, wide: wide.slice(0, 20),
        nwide: wide.length, imgs: imgs, reprs: reprs.slice(0, 20), heads: heads, small: small, headers: headers,
        key: key, bodyEnd: bodyEnd, pageHeight: document.documentElement.scrollHeight};
"""


def _driver():
    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(f"headless browser check needs {', '.join(missing)}: "
                    "apt-get install -y chromium chromium-driver (.ci/run does this)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bayesmeta-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in [*FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},900"]:
        opts.add_argument(f)
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    drv.set_window_size(WIDTH, 900)
    return drv, profile


@pytest.fixture(scope="module")
def browser():
    drv, profile = _driver()
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _inspect(drv, path: Path) -> dict:
    drv.get(path.as_uri())
    drv.execute_script("return document.readyState")
    drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all(Array.from(document.images).map(i => i.complete ? 0 : new Promise(r => {i.onload = i.onerror = r;})))"
        ".then(() => done(true));")
    drv.execute_script("document.querySelectorAll('details').forEach(d => d.removeAttribute('open'))")
    return drv.execute_script(PAGE_JS, REPR_JS, MIN_FONT_PX)


def heading_problems(heads: list[list[str]]) -> list[str]:
    """Problems with the heading sequence: one h1 first, h2 numbered 1, 2, ..., h3 numbered
    within their h2, no level skipped."""
    import re

    bad = []
    if not heads or heads[0][0] != "H1" or sum(h[0] == "H1" for h in heads) != 1:
        bad.append("the page must start with exactly one h1")
    sec = sub = 0
    prev = 1
    for tag, text in heads[1:]:
        level = int(tag[1])
        if level > prev + 1:
            bad.append(f"{tag} {text!r} skips a level after h{prev}")
        prev = level
        if level == 2:
            m = re.match(r"(\d+)\. ", text)
            if not m or int(m.group(1)) != sec + 1:
                bad.append(f"h2 {text!r} should be numbered {sec + 1}.")
            sec, sub = sec + 1, 0
        elif level == 3:
            m = re.match(r"(\d+)\.(\d+) ", text)
            if not m or (int(m.group(1)), int(m.group(2))) != (sec, sub + 1):
                bad.append(f"h3 {text!r} should be numbered {sec}.{sub + 1}")
            sub += 1
    return bad


def test_heading_rule_catches_bad_sequences():
    assert heading_problems([["H1", "T"], ["H2", "1. A"], ["H3", "1.1 B"], ["H2", "2. C"]]) == []
    assert heading_problems([["H1", "T"], ["H2", "3. A"]])  # starts at 3
    assert heading_problems([["H1", "T"], ["H3", "1.1 A"]])  # skips h2
    assert heading_problems([["H2", "1. A"]])  # no h1


def test_reports_exist():
    if os.environ.get("BAYESMETA_REPORTS"):
        assert REPORTS, os.environ["BAYESMETA_REPORTS"]
        return
    names = {p.parent.name for p in REPORTS}
    assert {"viderman2023", "normand1999", "colditz1994"} <= names, names


IDENTIFIER = re.compile(r"[A-Za-z0-9]_[A-Za-z0-9]|@")


def header_problems(headers: list[str]) -> list[str]:
    """Column headers that are identifiers rather than words (``p_ni``, ``hdi95_lb``, ``p@0.5``)."""
    return [h for h in headers if IDENTIFIER.search(h)]


def test_header_rule_catches_identifiers():
    assert header_problems(["P(US no worse than 1 point)", "Trials (participants)", "95% interval"]) == []
    assert header_problems(["p_noninferior@0.5", "hdi95_lb", "prior_p_tau_below_005"]) == [
        "p_noninferior@0.5", "hdi95_lb", "prior_p_tau_below_005"]


def _kind(report: Path) -> str:
    """``published`` for a report of published results (its tables hold summary-level analyses),
    else ``study_level``."""
    return "published" if any((report.parent / "tables").glob("*summary_random_effects*")) else "study_level"


def _size(drv, width: int, height: int) -> None:
    drv.set_window_size(width, height)
    inner = drv.execute_script("return [window.innerWidth, window.innerHeight]")
    drv.set_window_size(width + (width - inner[0]), height + (height - inner[1]))


@pytest.mark.parametrize("width", [WIDTH, PHONE[0]], ids=["1280px", "390px"])
@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.parent.name)
def test_report_in_browser(browser, report, width):
    _size(browser, width, SCREEN_H if width == WIDTH else PHONE[1])
    r = _inspect(browser, report)
    assert r["clientWidth"] <= width
    assert r["scrollWidth"] <= r["clientWidth"], f"page is {r['scrollWidth']} px wide at a {width} px window"
    assert r["nwide"] == 0, f"{r['nwide']} elements wider than the window: {r['wide']}"
    assert r["imgs"], "no figures"
    broken = [i["alt"] for i in r["imgs"] if not i["ok"]]
    assert not broken, f"images that did not load: {broken}"
    assert not r["reprs"], f"Python reprs in the text: {r['reprs']}"
    assert not heading_problems(r["heads"]), heading_problems(r["heads"])
    assert not r["small"], f"figures shown with text below {MIN_FONT_PX} CSS px: {r['small'][:5]}"
    assert r["key"] is not None, "the summary table has no primary probability column (Table.key or a P(...) header)"
    assert r["key"]["visible"], f"the primary probability column is off screen at {width} px: {r['key']}"
    if width == WIDTH:
        screens = r["bodyEnd"] / SCREEN_H
        budget = BUDGET[_kind(report)]
        assert screens <= budget, f"main body is {screens:.1f} screens long (budget {budget})"
    assert not header_problems(r["headers"]), f"column headers that are not words: {header_problems(r['headers'])[:8]}"


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.parent.name)
def test_saved_figures_have_no_overlapping_text(report):
    from PIL import Image

    from bayesmeta.report.figures import OVERLAP_KEY

    bad = {}
    for png in sorted((report.parent / "figures").glob("*.png")):
        with Image.open(png) as im:
            v = im.info.get(OVERLAP_KEY)
        if v != "none":
            bad[png.name] = v if v is not None else "saved without the overlap check"
    assert not bad, bad


def screenshots(out: Path) -> list[Path]:
    """The first screen of each committed report at 1280 x 800 and at 390 x 844 (a phone), as PNG in
    ``out`` (``<report>.png`` and ``<report>_phone.png``)."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    drv, profile = _driver()
    files = []
    try:
        for (w, h), suffix, scale in (((WIDTH, SCREEN_H), "", 0.75), (PHONE, "_phone", 1.0)):
            for rep in REPORTS:
                _size(drv, w, h)
                _inspect(drv, rep)
                drv.execute_script("window.scrollTo(0, 0)")
                raw = Path(profile) / "shot.png"
                drv.save_screenshot(str(raw))
                im = Image.open(raw).convert("RGB")
                im = im.resize((int(im.width * scale), int(im.height * scale)), Image.LANCZOS)
                dest = out / f"{rep.parent.name}{suffix}.png"
                im.quantize(colors=128).save(dest, optimize=True)
                files.append(dest)
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return files


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--screenshots":
        for f in screenshots(Path(sys.argv[2])):
            print(f, f.stat().st_size, "bytes")
    else:
        print(__doc__)


# A data set of a new user: non-ASCII study names (CJK, Hangul, emoji, Latin diacritics) and a
# double-zero study. The counts are SYNTHETIC (made up for this rendering test; no result is
# checked against them).
_ARMS = [("李明 2019", 12, 100, 20, 100), ("김서연 2020 😀", 8, 60, 15, 62), ("Müller & Ødegård 2018", 30, 250, 41, 240),
         ("Zoë 🩺 2021", 5, 80, 9, 78), ("Double-zero 2001", 0, 50, 0, 48), ("Søren 2016", 18, 150, 22, 149)]

_SPEC = """
[analysis]
id = "newuser"
title = "A new user's binary data: study-level reanalysis"
data = "data"
report = "report"
seed = 7
experimental = "drug"
control = "placebo"

[sampler]
sample = false

[[study_level]]
id = "ae_rr"
label = "Adverse events (RR, drug vs placebo)"
file = "binary_arms.csv"
outcome = "ae"
measure = "RR"
lower_is_better = true
question = "noninferiority"
margins = [1.25]
primary_margin = 1.25

[tau_priors.RR.halfnormal_05]
prior = "halfnormal(scale=0.5)"
primary = true
[tau_priors.RR.halfnormal_1]
prior = "halfnormal(scale=1.0)"

[mu_priors.RR.neutral]
prior = "normal(loc=0.0, scale=2.0)"
role = "neutral"
primary = true
rationale = "unit-information prior for log RR"
[mu_priors.RR.sceptical]
prior = "normal(loc=0.0, scale=0.1138)"
role = "sceptical"
rationale = "95% probability that RR lies in [0.8, 1.25]"
"""


@pytest.fixture(scope="module")
def new_user_report(tmp_path_factory):
    import csv
    import warnings

    from click.testing import CliRunner

    from bayesmeta.cli import main

    root = tmp_path_factory.mktemp("newuser")
    (root / "data").mkdir()
    with open(root / "data" / "binary_arms.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["study", "outcome", "timepoint", "arm", "events", "n", "source"])
        for s, ee, ne, ec, nc in _ARMS:
            w.writerow([s, "ae", "end", "drug", ee, ne, "synthetic test data"])
            w.writerow([s, "ae", "end", "placebo", ec, nc, "synthetic test data"])
    (root / "data" / "vocabulary.toml").write_text('outcomes = ["ae"]\ntimepoints = ["end"]\n\n[arms]\n'
                                                  'experimental = "drug"\ncontrol = "placebo"\n', encoding="utf-8")
    (root / "spec.toml").write_text(_SPEC, encoding="utf-8")
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        res = CliRunner().invoke(main, ["reanalyze", str(root / "spec.toml"), "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    glyphs = [str(x.message) for x in ws if "Glyph" in str(x.message)]
    return root / "report", glyphs


def test_new_user_report_in_browser(browser, new_user_report):
    out, glyphs = new_user_report
    assert glyphs == [], f"study names drawn with missing glyphs: {glyphs[:3]}"
    html = (out / "report.html").read_text(encoding="utf-8")
    for name, *_ in _ARMS:
        assert name in html.replace("&amp;", "&"), name
    r = _inspect(browser, out / "report.html")
    assert r["scrollWidth"] <= r["clientWidth"] and r["nwide"] == 0, r["wide"]
    assert r["imgs"] and all(i["ok"] for i in r["imgs"])
    assert not r["reprs"], r["reprs"]
    assert not heading_problems(r["heads"]), heading_problems(r["heads"])
