"""What a Finnish or Swedish planner meets, read in a real browser (headless Debian Chromium): the page
(`labsim app`) and the HTML report of every kind of output folder, in fi and sv. Each fails on an
English word from a stop-list, a catalogue key or `{field}` shown instead of its text, and any error in
the browser's console (a 404 for an asset, a script error). Screenshots go to $LABSIM_SCREENSHOTS when
it is set, to look at.

Skipped, saying why, without the app extra, selenium, playwright or Debian's chromium and chromedriver.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labsim.report.i18n import catalogue

from report_fixtures import add_uncertainty, make_diagnose, make_run, make_size, make_sweep
from test_app import TINY as TINY_EN
from test_app import CHROMIUM, DRIVER, _click_text, _css, _free_port, _have_app, _wait, _wait_http
from test_chart_text import make_sensitivity

#: English words a Finnish or Swedish planner should never meet (none is a Finnish or Swedish word).
STOP = ("the", "and", "of", "with", "for", "to", "is", "not", "only", "voluntary", "mandatory", "referral",
        "week", "weeks", "reset", "step", "run", "runs", "pause", "places", "participants", "source", "assumption",
        "calibrated", "unverified", "planner", "planner's", "website", "loading", "edited", "size", "power",
        "effect", "pilot", "pilots", "search", "report", "download", "cancel", "found", "share", "employed",
        "target", "people", "offices", "providers", "provider", "cost", "payment", "job", "jobs", "seekers",
        "unemployed", "error", "help", "solara", "interval", "upper", "lower", "made", "take", "away")
WORD = re.compile(r"[A-Za-zÅÄÖåäöÉéü'_]+")  # an identifier (fi_2019_growth_services) is one word
KEYS = {k for k in catalogue("en") if "_" in k}  # a key shown instead of its text (e.g. app_size_title)

# the browser test's tiny area, with the Finnish and Swedish descriptions a planner reads
TINY = TINY_EN.replace('description = "A tiny area for the browser test"\n',
                       'description = "A tiny area for the browser test"\n'
                       'description_fi = "Pieni alue selaintestiin"\n'
                       'description_sv = "Ett litet område för webbläsartestet"\n')


def problems_in(said: str) -> list[str]:
    """English stop-words, catalogue keys and unfilled fields in a page's visible text (a command to type,
    such as `labsim size baseline --by intake-weeks`, is the command's own words)."""
    said = re.sub(r"labsim [a-z]+( [\w./-]+)*", "", said)
    said = re.sub(r"[\w./-]+\.(md|toml)\b", "", said)  # a file named as a source (docs/payment.md)
    words = {w.lower() for w in WORD.findall(said)}
    found = sorted(w for w in words if w in STOP)
    found += sorted(k for k in KEYS if re.search(rf"\b{re.escape(k)}\b", said))
    found += re.findall(r"\{[a-z_]+\}", said)
    return found


def test_the_checks_catch_english_keys_and_unfilled_fields():
    assert problems_in("Kokeilu on täynnä.") == []
    assert problems_in("Tavoite: the target") == ["target", "the"]
    assert problems_in("app_size_title {n} paikkaa") == ["app_size_title", "{n}"]


def _shot(what: str, png: bytes) -> None:
    folder = os.environ.get("LABSIM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{what}.png").write_bytes(png)


# -- every report kind ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("language")
    run = make_run(root / "runs" / "mandatory", "referral.mode=mandatory")
    make_run(root / "runs" / "voluntary")
    return {"run": run, "runs": root / "runs", "size": add_uncertainty(make_size(root / "size", run)),
            "diagnose": make_diagnose(root / "diagnose", run), "sensitivity": make_sensitivity(root / "sensitivity"),
            "sweep": make_sweep(root / "sweep", run, "referral_and_payment", reps=2)}


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"needs Debian's chromium at {CHROMIUM}: apt-get install chromium")
@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_every_report_kind_reads_in_the_planners_language_in_chromium(folders, tmp_path, lang):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")
    from labsim.report.report import write_report

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
            for name, folder in folders.items():
                path = write_report(folder, lang, tmp_path / f"{name}-{lang}.html")
                page.goto(path.resolve().as_uri(), wait_until="load")
                said = page.inner_text("body")
                # the folders' own names and the scenario's are the planner's words, not ours
                for own in (folder.name, *(p.name for p in folder.iterdir() if p.is_dir()), "baseline"):
                    said = said.replace(own, "")
                assert not problems_in(said), (lang, name, problems_in(said))
                _shot(f"report-{name}-{lang}", page.screenshot(full_page=False))
            assert not errors, (lang, errors)
        finally:
            browser.close()


# -- the page ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["fi", "sv"])
def page_server(request, tmp_path_factory):
    reason = _have_app()
    if reason:
        pytest.skip(reason)
    lang = request.param
    scenario = tmp_path_factory.mktemp(f"page-{lang}") / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    port = _free_port()
    temp = tmp_path_factory.mktemp(f"page-temp-{lang}")
    process = subprocess.Popen([sys.executable, "-m", "labsim", "app", "--scenario", str(scenario), "--port", str(port),
                                "--lang", lang], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TMPDIR": str(temp)})
    process.temp = temp
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_http(url, process)
        yield url, process, lang
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def logged_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _said(driver) -> str:
    return driver.execute_script("return document.body.innerText")


MANDATORY = {"fi": "Velvoittava ohjaus", "sv": "Obligatorisk anvisning"}
EDITED = {"fi": "Muokattu sivulla: ohjaustapa vapaaehtoinen ohjaus → velvoittava ohjaus",
          "sv": "Ändrat på sidan: anvisningsregel frivillig anvisning → obligatorisk anvisning"}
FIND = {"fi": "Etsi koko", "sv": "Sök storleken"}
SLACK = {"fi": "Perusalue löysillä työmarkkinoilla", "sv": "Basområdet på en svag arbetsmarknad"}


def test_the_page_reads_in_the_planners_language_with_a_clean_console(page_server, logged_browser):
    url, process, lang = page_server
    driver = logged_browser
    driver.get(url)
    _wait(driver, lambda d: _css(d, ".labsim-week"), 60, "the page to load")
    time.sleep(1)  # late assets (fonts, scripts) report their errors
    description = _css(driver, ".labsim-description")[0].text
    assert description == TINY.split(f'description_{lang} = "')[1].split('"')[0]
    # slider values in the locale's numbers: the share randomised, "50 %"
    assert ": 50 %" in _css(driver, ".lever-design-treatment_share")[0].text.replace("\u00a0", " ")  # not 0.50

    # a lever moved: the value by its name, the description says what changed
    _css(driver, ".lever-referral-mode .v-field")[0].click()
    item = _wait(driver, lambda d: [i for i in _css(d, ".v-overlay-container .v-list-item")
                                     if i.text.lower() == MANDATORY[lang].lower()], 10, "the referral menu")[0]
    item.click()
    _wait(driver, lambda d: EDITED[lang] in _css(d, ".labsim-description")[0].text, 10, "the edited description")

    # a quick size answer, then its words
    _click_text(driver, ".labsim-size", FIND[lang])
    _wait(driver, lambda d: _css(d, ".labsim-size-answer"), 240, "the size answer")
    assert not list(process.temp.glob("labsim-app-size-*"))  # no folder left behind
    said = _said(driver).replace("tiny", "")
    _shot(f"page-{lang}", driver.get_screenshot_as_png())
    assert not problems_in(said), problems_in(said)
    assert not _console_errors(driver)

    # another scenario: the old answer goes
    _css(driver, ".labsim-scenario-pick .v-field")[0].click()
    _wait(driver, lambda d: [i for i in _css(d, ".v-overlay-container .v-list-item") if i.text.startswith(SLACK[lang])],
          10, "the scenario menu")[0].click()
    _wait(driver, lambda d: not _css(d, ".labsim-size-answer"), 60, "the old answer cleared")
    assert process.poll() is None


# -- the glossary (docs/glossary.md) -------------------------------------------------------------------

#: Words a native reader corrected, and the fixed term each catalogue must use instead (docs/glossary.md).
RETIRED = {"fi": ("Hylkäysvirhe", "voimaa", "kertaisesti", "Askel viikko", "+-", "punaisen", "koko näytön"),
           "sv": ("nollpunkt", "Gjord med", "Ta med", "hittad", "+-", "röda", "styrka över"),
           "en": ("+-",)}
FIXED = {"fi": {"n_type_i": "I lajin virhe (hylkäämisvirhe)", "n_break_even": "kannattavuusraja",
                "n_rollout": "Laajan käyttöönoton", "n_take_up": "Osallistumisaste", "power_y": "Testin voimakkuus",
                "app_downloads": "Lataa", "app_step": "Viikko eteenpäin"},
         "sv": {"n_type_i": "Typ I-fel", "n_break_even": "lönsamhetsgräns", "n_rollout": "fullt införande",
                "n_take_up": "Deltagandegrad", "n_assurance": "Sannolikhet för signifikant resultat",
                "app_downloads": "Ladda ner", "r_made": "Skapad med"}}

GLOSSARY = {"en": ("power", "assurance", "type-I error", "roll-out", "break-even", "take-up"),
            "fi": ("testin voimakkuus", "varmuus", "I lajin virhe", "laaja käyttöönotto", "kannattavuusraja",
                   "osallistumisaste"),
            "sv": ("styrka", "sannolikhet för signifikant resultat", "typ I-fel", "fullt införande", "lönsamhetsgräns",
                   "deltagandegrad")}


@pytest.mark.parametrize("lang", ["en", "fi", "sv"])
def test_catalogues_keep_to_the_glossary(lang):
    from labsim.report.i18n import catalogue

    texts = catalogue(lang)
    flat = "\n".join(str(v) for v in texts.values())
    assert not [w for w in RETIRED[lang] if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", flat)]
    for key, term in FIXED.get(lang, {}).items():
        assert term.lower() in str(texts[key]).lower(), (key, texts[key])
    glossary = (Path(__file__).parent.parent / "docs" / "glossary.md").read_text(encoding="utf-8")
    for term in GLOSSARY[lang]:  # each fixed term is in the glossary and used (inflected: its stem) in the catalogue
        assert term.lower() in glossary.lower(), term
        assert all(word[:max(4, len(word) - 2)] in flat.lower() for word in term.lower().split()), term


def test_the_evidence_table_says_what_each_value_means_in_percentage_points():
    from dataclasses import replace

    from labsim.design.size_answer import Evidence, MinimumSize, SizeAtValue
    from labsim.report.answers import size_answer
    from report_fixtures import size_fixture

    ends = (SizeAtValue("providers.effort_effect", 0.45, None, "not_reachable", 0, itt=0.0081),
            SizeAtValue("providers.effort_effect", 0.78, MinimumSize(799.5, 700.0, float("inf")), "found", 0, itt=0.021))
    a = replace(size_fixture(), evidence=Evidence(ends, (), 0.8, None, 0))
    (table,) = [t for t in size_answer(a, "fi").tables if t.rows and len(t.rows[0]) == 5]
    low, high = table.rows
    assert low[1] == "0,45: vaikutus +0,8 %-yks." and low[3] == "–"  # no "- - –" where no interval exists
    assert high[3] == "700–ei ylärajaa"
