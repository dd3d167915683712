"""End-to-end in headless Chromium (Debian's chromium and chromedriver, driven by Selenium).

    python3 browser.py BASE_URL OUT_DIR

A firm signs in, enters its data, sees the preview and submits; a regulator signs in and
approves; a phone-sized window opens the scan page and finds the grade; each page switches to
English. Screenshots go to OUT_DIR. Exits non-zero on the first failed expectation.
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

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
    fields = {"f-period": "2026", "f-assessed_on": "2027-03-31", "f-value_added_10k_cny": "25000",
              "f-electricity_kwh": "9000000", "f-natural_gas_m3": "120000",
              "f-waste_generated_t": "300", "f-waste_stock_utilized_t": "0", "f-waste_utilized_t": "260"}
    for field, value in fields.items():
        element = desk.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    desk.find_element(By.CSS_SELECTOR, "button[value=preview]").click()
    preview = desk.find_element(By.CSS_SELECTOR, "section.preview")
    grade = preview.find_element(By.CSS_SELECTOR, ".grade").text
    expect(grade in ("A+", "A", "B", "C", "D"), f"the preview shows a grade ({grade})")
    expect("能效得分" in preview.text, "the preview shows the breakdown")
    shot(desk, "firm-preview")
    desk.find_element(By.CSS_SELECTOR, "button[value=submit]").click()
    expect("已提交" in desk.find_element(By.CSS_SELECTOR, ".flash").text, "the submission is confirmed")
    expect("2026" in desk.find_element(By.ID, "subs-h").find_element(By.XPATH, "..").text, "the submission is listed")
    shot(desk, "firm-submitted")
    sign_out(desk)

    # A regulator approves it.
    sign_in(desk, "regulator")
    expect(lands_on(desk, "/regulator"), f"the regulator lands on the queue ({desk.current_url})")
    desk.find_element(By.PARTIAL_LINK_TEXT, "重庆璧山智能电子科技有限公司").click()
    expect("能效得分" in desk.page_source, "the review shows the trace")
    shot(desk, "regulator-review")
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
    viewport = phone.execute_script("return window.innerWidth")
    width = phone.execute_script("return document.documentElement.scrollWidth")
    expect(viewport == 360 and width <= 360, f"nothing is wider than the phone ({width}px in {viewport}px)")
    shot(phone, "scan-phone")
    phone.get(f"{BASE}/c/{code}?lang=en")
    expect("Signature verified" in phone.page_source, "the scan page switches to English")
    shot(phone, "scan-phone-en")
    phone.get(f"{BASE}/c/{code[:-2]}{'AB' if code.endswith('AA') else 'AA'}?lang=zh")
    expect("此码无效" in phone.page_source, "a tampered code is plainly not valid")
    shot(phone, "scan-phone-invalid")
finally:
    phone.quit()
print("browser: all passed")
