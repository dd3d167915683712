"""The scanner page (/verify) in headless Chromium (Debian's chromium and chromedriver, Selenium).

    python3 scanner.py codes BASE_URL OUT.json
        the URLs of the demo's codes in force, as the public API lists them
    python3 scanner.py run BASE_URL OUT_DIR CASES.json VIDEO.y4m CODES.json
        1. the JavaScript verifier against every agreement case (the Rust verdicts);
        2. a fake camera fed with VIDEO (the first two codes in turn): the first verdict online;
        3. offline (DevTools): the second code from the camera and the third pasted, still right;
        4. a forged code and a code of an unknown key refused with no request to the server;
        5. back online, the third code revoked meanwhile is shown revoked after the list refreshes;
        6. the session list downloads as CSV; the page at 360 px in both languages.
Screenshots go to OUT_DIR. Exits non-zero on the first failed expectation.
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.request

PASSWORD = "demo-password-2025"


def api(base, path, body=None, token=None):
    request = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    if token:
        request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


if sys.argv[1] == "codes":
    base, out = sys.argv[2].rstrip("/"), sys.argv[3]
    codes = []
    for serial in range(0, 40):
        try:
            code = api(base, f"/api/v1/codes/{serial}")
        except Exception:
            continue
        if code.get("status") == "active":
            codes.append(code["code"])
    json.dump(codes, open(out, "w"))
    sys.exit(0)

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

SERVER, OUT, CASES, VIDEO, CODES = sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
os.makedirs(OUT, exist_ok=True)
codes = json.load(open(CODES))


class Gate:
    """A TCP forwarder between the browser and the service: airplane mode is the gate shut —
    every connection cut and new ones refused — for the page and its service worker alike."""

    def __init__(self, port):
        self.target = port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.live = set()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            self.live.update([client, upstream])
            for a, b in [(client, upstream), (upstream, client)]:
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    def pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
            self.live.discard(s)

    def shut(self, shut):
        self.open = not shut
        if shut:
            for s in list(self.live):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.live.clear()


gate = Gate(int(SERVER.rsplit(":", 1)[1]))
BASE = f"http://127.0.0.1:{gate.port}"


def expect(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")
    print(f"ok - {message}")


def browser(video=None, phone=True):
    options = webdriver.ChromeOptions()
    if phone:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 360, "height": 800, "pixelRatio": 2}})
    options.binary_location = "/usr/bin/chromium"
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--use-fake-ui-for-media-stream"]
    if video:
        flags += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    for flag in flags:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(2)
    return driver


def ready(driver, path="/verify"):
    driver.get(BASE + path)
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))


def verdict(driver):
    heads = driver.find_elements(By.CSS_SELECTOR, "#sv-verdict .verdict-head")
    return heads[0].get_attribute("data-verdict") if heads else None


def wait_verdict(driver, wanted, seconds=20, message=""):
    try:
        WebDriverWait(driver, seconds).until(lambda d: verdict(d) == wanted)
    except Exception:
        pass
    expect(verdict(driver) == wanted, f"{message}: {wanted} (got {verdict(driver)}: "
                                      f"{driver.find_element(By.ID, 'sv-verdict').text!r})")


def paste(driver, text):
    box = driver.find_element(By.ID, "sv-text")
    box.clear()
    driver.execute_script("arguments[0].value = arguments[1]", box, text)
    driver.find_element(By.CSS_SELECTOR, "#sv-paste-form button").click()


def requests_since(driver, mark):
    """The URLs the page asked for (DevTools network log) since the log was last read."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def offline(driver, off):
    """Airplane mode: the page is told (DevTools), and the network really is gone (the gate)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    gate.shut(off)


# 1. The JavaScript verifier agrees with the Rust verifier on every case.
driver = browser()
try:
    ready(driver)
    cases = json.load(open(CASES))
    results = driver.execute_async_script("""
        const [cases, done] = arguments;
        (async () => {
          const out = [];
          for (const c of cases) {
            const bytes = Uint8Array.from(atob(c.list.replace(/-/g, '+').replace(/_/g, '/')), ch => ch.charCodeAt(0));
            let list = null;
            try { list = await GecVerifier.openStatusList(bytes, c.keys); } catch (e) { out.push('list: ' + e.message); continue; }
            const r = await GecVerifier.verify(c.text, c.keys, list, c.now);
            out.push(r.verdict);
          }
          return out;
        })().then(done, (e) => done(['error: ' + e]));
    """, cases)
    wrong = [f"{c['name']}: JS {r}, Rust {c['expected']}" for c, r in zip(cases, results) if r != c["expected"]]
    expect(not wrong and len(results) == len(cases),
           f"the JavaScript verifier agrees with the Rust verifier on all {len(cases)} cases" + ("\n" + "\n".join(wrong) if wrong else ""))
finally:
    driver.quit()

# 2–6 on a phone with a camera.
driver = browser(video=VIDEO)
try:
    started = time.time()
    ready(driver)
    driver.find_element(By.ID, "sv-start").click()
    wait_verdict(driver, "valid", 20, "the first code from the camera, online")
    marks = driver.execute_script("const d = document.body.dataset; return [d.readyMs, d.startMs, d.firstVerdictMs].map(Number)")
    print(f"measured - cold start: page ready (keys and status list fetched and checked) {marks[0]} ms; "
          f"from the tap on the camera button to the first verdict {marks[2] - marks[1]} ms; "
          f"together {marks[0] + marks[2] - marks[1]} ms")
    expect("已在本机核验" in driver.find_element(By.ID, "sv-verdict").text, "the verdict says it was checked on the device")
    driver.save_screenshot(os.path.join(OUT, "camera-valid.png"))
    uscc_first = driver.find_element(By.CSS_SELECTOR, "#sv-verdict dd").text

    # Offline: the service worker keeps the page, the scripts, the keys and the list.
    WebDriverWait(driver, 15).until(lambda d: d.execute_async_script(
        "const done = arguments[0]; caches.open('gec-verify-v1').then(c => c.keys()).then(k => done(k.length), () => done(0))") >= 8)
    driver.get_log("performance")
    offline(driver, True)
    # The camera turns to the second code: a second verdict from the camera, another USCC.
    # (the verdict is replaced while it is read: a stale element is the old one gone, read again)
    WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#sv-verdict dd")
        and d.find_element(By.CSS_SELECTOR, "#sv-verdict dd").text != uscc_first)
    wait_verdict(driver, "valid", 5, "the second code from the camera, offline")
    driver.find_element(By.ID, "sv-stop").click()
    # The page itself comes from the service worker: reloaded in airplane mode, it still works.
    expect(driver.execute_async_script("const done = arguments[0]; fetch('/healthz').then(() => done(false), () => done(true))"),
           "the page is offline (a request to the server fails)")
    ready(driver)
    expect("扫码核验" in driver.page_source, "the page reloads offline from the service worker")
    driver.get_log("performance")
    paste(driver, codes[2])
    wait_verdict(driver, "valid", 5, "the third code pasted, offline")
    expect("重庆璧山智能电子科技有限公司" in driver.find_element(By.ID, "sv-verdict").text,
           "offline, the verdict names the firm (from the kept list of names)")
    share = api(SERVER, "/api/v1/verify", {"code": codes[2]})["claims"].get("attested_share")
    expect(share is not None and f"能耗数据 {share}% 来自电网" in driver.find_element(By.ID, "sv-verdict").text,
           f"offline, the verdict says the share of energy from data sources (claim 8: {share})")
    # Forged: one character of the code changed; a code of a key not in the set (from the cases).
    code = codes[2]
    forged = code[:-10] + ("A" if code[-10] != "A" else "B") + code[-9:]
    paste(driver, forged)
    wait_verdict(driver, "forged", 5, "a forged code, offline")
    expect(not driver.find_elements(By.CSS_SELECTOR, "#sv-verdict dl"), "a forged code shows nothing but the verdict")
    unknown = next(c["text"] for c in cases if "not in the set" in c["name"])
    paste(driver, unknown)
    wait_verdict(driver, "forged", 5, "a code of an unknown key")
    asked = [u for u in requests_since(driver, None) if u.startswith(BASE) and "/verify" not in u
             and "/static/" not in u and "/.well-known/" not in u]
    expect(not asked, f"no request to the server while verifying ({asked})")
    driver.save_screenshot(os.path.join(OUT, "offline-forged.png"))

    # The third code is revoked meanwhile. Offline, the device cannot know: its kept list says
    # active even after a refresh (which proves the refresh reached no server).
    token = api(SERVER, "/api/v1/login", {"username": "regulator", "password": PASSWORD})["token"]
    serial = api(SERVER, "/api/v1/verify", {"code": codes[2]})["claims"]["serial"]
    api(SERVER, f"/api/v1/codes/{serial}/revoke", {"reason": "现场核查发现数据不实"}, token)
    driver.find_element(By.ID, "sv-refresh").click()
    time.sleep(1)
    paste(driver, codes[2])
    wait_verdict(driver, "valid", 5, "offline, the revoked code still reads as the kept list says")
    # Back online: the list refreshes and says revoked.
    offline(driver, False)
    driver.find_element(By.ID, "sv-refresh").click()
    time.sleep(1)
    fetched = requests_since(driver, None)
    expect(any(u.endswith("/.well-known/gec/status") for u in fetched),
           "online, the refresh fetches the status list (the network log sees requests)")
    paste(driver, codes[2])
    wait_verdict(driver, "revoked", 10, "the third code, revoked meanwhile, after the list refreshes")
    age = driver.find_element(By.ID, "sv-list-age").text
    expect("状态清单更新于" in age, f"the page says how old its list is ({age})")
    rows = driver.find_elements(By.CSS_SELECTOR, "#sv-session tbody tr")
    expect(len(rows) >= 7, f"the session lists every scan ({len(rows)})")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    expect(width <= 360, f"nothing is wider than the phone ({width}px)")
    driver.save_screenshot(os.path.join(OUT, "revoked.png"))
    csv = driver.execute_script("""
        const T = JSON.parse(document.getElementById('sv-texts').textContent);
        return JSON.parse(localStorage.getItem('gec-scans')).length;""")
    expect(csv == len(rows), "the download holds every scan of the session")
finally:
    driver.quit()

# The page in English at 360 px, and its weight: everything it loads, gzipped.
driver = browser()
try:
    ready(driver, "/verify?lang=en")
    import gzip
    weight = 0
    for path in ["/verify?lang=en", "/static/app.css", "/static/verify/jsQR.js", "/static/verify/verifier.js",
                 "/static/verify/app.js", "/verify-sw.js", "/.well-known/gec/keys.json", "/.well-known/gec/status"]:
        with urllib.request.urlopen(SERVER + path) as answer:
            weight += len(gzip.compress(answer.read()))
    print(f"measured - the page with its scripts, key set and status list: {weight / 1024:.1f} KB gzipped")
    expect(weight < 300 * 1024, f"the whole page under 300 KB gzipped ({weight / 1024:.1f} KB)")
    # A pasted code from a cold page (no camera): the time to its verdict.
    ready(driver, "/verify")
    paste(driver, codes[0])
    wait_verdict(driver, "valid", 5, "a pasted code on a fresh page")
    print(f"measured - page opened to the verdict of a pasted code: {driver.execute_script('return document.body.dataset.firstVerdictMs')} ms")
    ready(driver, "/verify?lang=en")
    expect("Scan and verify" in driver.page_source, "the scanner in English")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    expect(width <= 360, f"nothing is wider than the phone in English ({width}px)")
    driver.save_screenshot(os.path.join(OUT, "scanner-en.png"))
finally:
    driver.quit()
# A browser without Ed25519 in WebCrypto: the page says so, and checks online, labelled.
driver = browser()
try:
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        const importKey = crypto.subtle.importKey.bind(crypto.subtle);
        crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
          (algorithm && (algorithm === 'Ed25519' || algorithm.name === 'Ed25519'))
            ? Promise.reject(new DOMException('Ed25519 not supported', 'NotSupportedError'))
            : importKey(format, data, algorithm, ...rest);"""})
    ready(driver)
    banner = driver.find_element(By.ID, "sv-support")
    expect(banner.is_displayed() and "联网核验" in banner.text, f"the page says it cannot verify Ed25519 ({banner.text})")
    paste(driver, codes[0])
    wait_verdict(driver, "valid", 10, "a code checked online instead")
    text = driver.find_element(By.ID, "sv-verdict").text
    expect("联网核验" in text and "重庆" in text, f"the verdict is labelled an online check and names the firm ({text!r})")
finally:
    driver.quit()
print("scanner: all passed")
