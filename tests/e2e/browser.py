"""End-to-end in headless Chromium (Debian's chromium and chromedriver, driven by Selenium).

    python3 browser.py BASE_URL OUT_DIR

A firm signs in, enters its data, sees the preview and submits; a regulator signs in and
approves; a phone-sized window opens the scan page and finds the grade; each page switches to
English. Then every page, as each role sees it, is opened on a 360-px phone in both languages:
nothing may scroll sideways (the document's scroll width must not exceed the viewport) and no
chart text may be drawn smaller than 12 px. Screenshots go to OUT_DIR. Exits non-zero on the
first failed expectation.
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, OUT = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(OUT, exist_ok=True)
PASSWORD = "demo-password-2025"


def browser(width, height, phone=False):
    options = webdriver.ChromeOptions()
    if phone:
        # A desktop window cannot be narrower than about 500 px: emulate the phone's screen.
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}})
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    return driver


def lands_on(driver, suffix):
    try:
        WebDriverWait(driver, 10).until(lambda d: d.current_url.split("?")[0].endswith(suffix))
        return True
    except Exception:
        return False


def shot(driver, name):
    driver.save_screenshot(os.path.join(OUT, f"{name}.png"))


def expect(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")
    print(f"ok - {message}")


def sign_in(driver, username):
    driver.get(f"{BASE}/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()


def sign_out(driver):
    driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    lands_on(driver, "/")


desk = browser(1280, 1800)
try:
    # A firm enters its data, previews the grade, and submits.
    sign_in(desk, "firm-bishan")
    expect(lands_on(desk, "/firm"), f"the firm lands on its desk ({desk.current_url})")
    expect(desk.find_element(By.ID, "f-value_added_10k_cny").get_attribute("value") != "",
           "the form starts from last year's figures")
    Select(desk.find_element(By.ID, "f-period")).select_by_value("2025")
    fields = {"f-value_added_10k_cny": "25,000", "f-electricity_10k_kwh": "９００", "f-natural_gas_10k_m3": "12",
              "f-waste_generated_t": "300", "f-waste_stock_utilized_t": "", "f-waste_utilized_t": "260"}
    for field, value in fields.items():
        element = desk.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    desk.find_element(By.CSS_SELECTOR, "button[value=preview]").click()
    preview = desk.find_element(By.CSS_SELECTOR, "section.preview")
    grade = preview.find_element(By.CSS_SELECTOR, ".grade").text
    expect(grade in ("A+", "A", "B", "C", "D"), f"the preview shows a grade ({grade})")
    expect(desk.current_url.endswith("#result"), f"the page lands on the result ({desk.current_url})")
    expect("能效得分" in preview.text, "the preview shows the breakdown")
    expect("碳效等级" in preview.text and "排放来源" in preview.text,
           "the preview shows the carbon level and the emissions by source")
    shot(desk, "firm-preview")
    desk.find_element(By.CSS_SELECTOR, "button[value=submit]").click()
    expect("已提交" in desk.find_element(By.CSS_SELECTOR, ".flash").text, "the submission is confirmed")
    expect("2025" in desk.find_element(By.ID, "subs-h").find_element(By.XPATH, "..").text, "the submission is listed")
    shot(desk, "firm-submitted")
    sign_out(desk)

    # A regulator approves it.
    sign_in(desk, "regulator")
    expect(lands_on(desk, "/regulator"), f"the regulator lands on the queue ({desk.current_url})")
    desk.find_element(By.CSS_SELECTOR, "a[href^='/regulator/assessments/']").click()
    expect("能效得分" in desk.page_source, "the review shows the trace")
    shot(desk, "regulator-review")
    # A final action asks once, saying what will happen.
    confirm = desk.find_element(By.CSS_SELECTOR, "details.confirm")
    expect("透明日志" in confirm.get_attribute("textContent"), "approving says what it will do")
    confirm.find_element(By.CSS_SELECTOR, "summary").click()
    desk.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
    expect("已审核通过并签发绿效码" in desk.find_element(By.CSS_SELECTOR, ".flash").text, "the approval issues a code")
    desk.get(f"{BASE}/regulator/charts?lang=en")
    expect("By industry division" in desk.page_source, "the charts page switches to English")
    shot(desk, "regulator-charts-en")
    serial = desk.execute_script(
        "return fetch('/api/v1/firms/91500227MAABL3X4FQ').then(r => r.json()).then(j => j.code_serial)")
    code = desk.execute_script(f"return fetch('/api/v1/codes/{serial}').then(r => r.json()).then(j => j.code)")
finally:
    desk.quit()

# Anyone scans the new code with a phone.
phone = browser(360, 800, phone=True)
try:
    phone.get(f"{BASE}/c/{code}")
    grade = phone.find_element(By.CSS_SELECTOR, ".grade-line.big .grade")
    expect(grade.is_displayed() and grade.text in ("A+", "A", "B", "C", "D"), f"the phone sees the grade {grade.text}")
    expect("签名核验通过" in phone.find_element(By.CSS_SELECTOR, ".banner").text, "the phone sees it is valid")
    carbon = phone.find_element(By.CSS_SELECTOR, ".carbon-line")
    expect(carbon.is_displayed() and "碳效等级" in carbon.text and "为行业基准的" in carbon.text,
           f"the phone sees the carbon level and its sentence ({carbon.text})")
    viewport = phone.execute_script("return window.innerWidth")
    width = phone.execute_script("return document.documentElement.scrollWidth")
    expect(viewport == 360 and width <= 360, f"nothing is wider than the phone ({width}px in {viewport}px)")
    shot(phone, "scan-phone")
    phone.get(f"{BASE}/c/{code}?lang=en")
    expect("Signature verified" in phone.page_source, "the scan page switches to English")
    expect("of the industry baseline" in phone.find_element(By.CSS_SELECTOR, ".carbon-line").text,
           "the carbon sentence in English")
    shot(phone, "scan-phone-en")
    phone.get(f"{BASE}/c/{code[:-2]}{'AB' if code.endswith('AA') else 'AA'}?lang=zh")
    expect("此码无效" in phone.page_source, "a tampered code is plainly not valid")
    shot(phone, "scan-phone-invalid")
finally:
    phone.quit()


def fits_the_phone(driver, name, prefix="phone"):
    """Nothing scrolls sideways and chart text is at least 12 px; keeps a screenshot."""
    viewport = driver.execute_script("return window.innerWidth")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    expect(width <= viewport, f"{name}: nothing is wider than the phone ({width}px in {viewport}px)")
    small = driver.execute_script(
        "return [...document.querySelectorAll('svg text')]"
        ".map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"
        ".filter(px => px < 12).length")
    expect(small == 0, f"{name}: no chart text under 12 px ({small} smaller)")
    # No caption, cell or label squeezed narrower than one and a half em (a heading broken one
    # character a line, as a table caption once was in the cards of a phone).
    squeezed = driver.execute_script(
        "return [...document.querySelectorAll('caption, th, td, label, dt')]"
        ".filter(e => !(e.closest('thead') && getComputedStyle(e.closest('thead')).position === 'absolute'))"
        ".filter(e => e.offsetWidth > 1 && e.textContent.trim().length > 2"
        " && e.offsetWidth < 1.5 * parseFloat(getComputedStyle(e).fontSize))"
        ".map(e => e.textContent.trim().slice(0, 20))")
    expect(not squeezed, f"{name}: nothing squeezed to a character a line ({squeezed[:5]})")
    shot(driver, f"{prefix}-{name}")


def sweep(driver, lang, pages):
    for name, path in pages:
        sep = "&" if "?" in path else "?"
        driver.get(f"{BASE}{path}{sep}lang={lang}")
        fits_the_phone(driver, f"{name}-{lang}")


# Every page, as each role sees it, on a 360-px phone, in both languages.
bad_code = f"{code[:-2]}{'AB' if code.endswith('AA') else 'AA'}"
for lang in ["zh", "en"]:
    phone = browser(360, 800, phone=True)
    try:
        sweep(phone, lang, [("home", "/"), ("login", "/login"), ("scan", f"/c/{code}"),
                            ("scan-invalid", f"/c/{bad_code}"), ("find-bad", "/verify?code=hello"),
                            ("not-found", "/no/such/page")])
        sign_in(phone, "firm-liangjiang")
        lands_on(phone, "/firm")
        sweep(phone, lang, [("firm", "/firm")])
        phone.find_element(By.CSS_SELECTOR, "button[value=preview]").click()
        fits_the_phone(phone, f"firm-preview-{lang}")
        element = phone.find_element(By.ID, "f-value_added_10k_cny")
        element.clear()
        element.send_keys("12,34")
        phone.find_element(By.CSS_SELECTOR, "button[value=preview]").click()
        expect(phone.find_elements(By.CSS_SELECTOR, ".error-summary a"), "the faults are summarised")
        fits_the_phone(phone, f"firm-faults-{lang}")
        sign_out(phone)
        sign_in(phone, "bank")
        lands_on(phone, "/bank")
        sweep(phone, lang, [("bank", "/bank")])
        phone.find_element(By.ID, "list-text").send_keys(f"{BASE}/c/{code}\n{bad_code}\n91500227MAABL3X4FQ\n")
        phone.find_element(By.CSS_SELECTOR, "form[action^='/bank/verify-list'] button[value=html]").click()
        expect(len(phone.find_elements(By.CSS_SELECTOR, "table.results tbody tr")) == 3, "three lines, three rows")
        level_cell = phone.find_element(By.CSS_SELECTOR, "table.results tbody tr td[data-label='%s']"
                                        % ("碳效等级" if lang == "zh" else "Carbon efficiency"))
        expect(("级 ·" if lang == "zh" else "Level ") in level_cell.text,
               f"the list shows the valid code's carbon level ({level_cell.text})")
        fits_the_phone(phone, f"bank-list-{lang}")
        sign_out(phone)
        sign_in(phone, "regulator")
        lands_on(phone, "/regulator")
        sweep(phone, lang, [("regulator-queue", "/regulator"), ("regulator-firms", "/regulator/firms"),
                            ("regulator-firm", "/regulator/firms/91500227MAABL3X4FQ"),
                            ("regulator-certifications", "/regulator/certifications"),
                            ("regulator-appeals", "/regulator/appeals"), ("regulator-charts", "/regulator/charts"),
                            ("regulator-services", "/regulator/services"),
                            ("regulator-policies", "/regulator/policies"),
                            ("regulator-finance", "/regulator/finance"),
                            ("regulator-audit", "/regulator/audit")])
        phone.get(f"{BASE}/regulator/firms/91500227MAABL3X4FQ")
        phone.find_element(By.CSS_SELECTOR, "a[href^='/regulator/assessments/']").click()
        expect(phone.find_elements(By.CSS_SELECTOR, ".carbon-block"), "the assessment shows its carbon efficiency")
        fits_the_phone(phone, f"regulator-assessment-{lang}")
        sign_out(phone)
        sign_in(phone, "provider-energy")
        lands_on(phone, "/provider")
        sweep(phone, lang, [("provider", "/provider")])
        sign_out(phone)
    finally:
        phone.quit()
# The same desks on a desktop, in both languages.
for lang in ["zh", "en"]:
    desk = browser(1280, 1000)
    try:
        for user, home, pages in [
            ("firm-liangjiang", "/firm", [("firm", "/firm")]),
            ("bank", "/bank", [("bank", "/bank")]),
            ("provider-energy", "/provider", [("provider", "/provider")]),
            ("regulator", "/regulator", [("regulator-firm", "/regulator/firms/91500227MAABL3X4FQ"),
                           ("regulator-services", "/regulator/services"),
                           ("regulator-policies", "/regulator/policies"),
                           ("regulator-finance", "/regulator/finance"),
                           ("regulator-audit", "/regulator/audit")]),
        ]:
            sign_in(desk, user)
            # Wait for the sign-in to land before opening the next page.
            expect(lands_on(desk, home), f"{user} is signed in ({desk.current_url})")
            for name, path in pages:
                sep = "&" if "?" in path else "?"
                desk.get(f"{BASE}{path}{sep}lang={lang}")
                fits_the_phone(desk, f"{name}-{lang}", prefix="desktop")
            sign_out(desk)
    finally:
        desk.quit()
print("browser: all passed")
