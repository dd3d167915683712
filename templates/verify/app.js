// The scanner page (/verify): camera, paste and image upload, each code verified on the device
// by verifier.js against the kept key set and status list; a session list kept on the device
// and downloaded as CSV. Nothing about a scanned code leaves the phone unless the officer asks
// for an online check. This file is the project's own (Apache-2.0 like the rest of the service).
"use strict";

(() => {
  const T = JSON.parse(document.getElementById("sv-texts").textContent);
  const $ = (id) => document.getElementById(id);
  const KEYS_URL = "/.well-known/gec/keys.json";
  const STATUS_URL = "/.well-known/gec/status";
  const MAX_AGE = Number(T.max_age_seconds) || 86400;
  let keySet = null, statusList = null, names = {}, ed25519 = false, stream = null, last = { text: "", at: 0 };
  const session = JSON.parse(localStorage.getItem("gec-scans") || "[]");

  const now = () => Math.floor(Date.now() / 1000);
  const say = (key, vars) => Object.entries(vars || {}).reduce((s, [k, v]) => s.replace(`{${k}}`, v), T[key] || key);

  // The key set and the status list: from the network when it answers (the service worker
  // keeps the last ones for offline use), never a status list older than one seen before.
  async function refresh() {
    try {
      const k = await fetch(KEYS_URL, { cache: "no-store" });
      if (k.ok) keySet = await k.json();
    } catch (_) { /* offline: the service worker's copy, or what was loaded */ }
    try {
      const s = await fetch(STATUS_URL, { cache: "no-store" });
      if (s.ok && keySet) {
        const list = await GecVerifier.openStatusList(new Uint8Array(await s.arrayBuffer()), keySet);
        const highest = Number(localStorage.getItem("gec-status-version") || "0");
        if (list.version >= highest) {
          statusList = list;
          localStorage.setItem("gec-status-version", String(list.version));
        }
      }
    } catch (_) { /* keep the list we have */ }
    try {
      const n = await fetch("/verify/firms.json", { cache: "no-store" });
      if (n.ok) names = (await n.json()).firms || {};
    } catch (_) { /* the names kept */ }
    showAge();
  }

  function ageWords(seconds) {
    if (seconds < 60) return T.age_now;
    if (seconds < 3600) return say("age_minutes", { n: Math.floor(seconds / 60) });
    if (seconds < 172800) return say("age_hours", { n: Math.floor(seconds / 3600) });
    return say("age_days", { n: Math.floor(seconds / 86400) });
  }

  function showAge() {
    const el = $("sv-list-age");
    if (!keySet) { el.textContent = T.no_keys; return; }
    if (!statusList) { el.textContent = T.no_list; return; }
    const age = now() - statusList.iat;
    el.textContent = say("list_age", { age: ageWords(age) }) + (age > MAX_AGE ? " " + T.list_old : "");
  }

  const VERDICT_CLASS = { valid: "ok", expired: "bad", superseded: "bad", revoked: "bad", forged: "bad",
    not_yet_valid: "bad", unknown_status: "warn", online_needed: "warn" };

  function render(result, how) {
    // When the first verdict of this page was shown (ms since the navigation began).
    if (!document.body.dataset.firstVerdictMs) document.body.dataset.firstVerdictMs = String(Math.round(performance.now()));
    const box = $("sv-verdict");
    box.className = "verdict-box " + (VERDICT_CLASS[result.verdict] || "bad");
    box.replaceChildren();
    const head = document.createElement("p");
    head.className = "verdict-head";
    head.textContent = T["v_" + result.verdict] || result.verdict;
    head.dataset.verdict = result.verdict;
    box.append(head);
    const why = T["r_" + (result.reason || "")];
    if (why && result.verdict !== "valid") {
      const p = document.createElement("p");
      p.textContent = why;
      box.append(p);
    }
    // A forged or unknown-key code shows nothing but the verdict.
    if (result.claims && result.verdict !== "forged") {
      const c = result.claims;
      const dl = document.createElement("dl");
      const rows = [[T.uscc, c.uscc], [T.grade, c.grade + " · " + T.score + " " + c.score],
        [T.period, String(c.period)], [T.valid_until, new Date(c.exp * 1000).toLocaleDateString("zh-CN", { timeZone: "Asia/Shanghai" })]];
      if (c.carbon_level) rows.push([T.carbon_level, T["carbon_" + c.carbon_level]]);
      if (c.attested_share !== null && c.attested_share !== undefined) rows.push([T.col_attested, T.attested_share.replace("{pct}", String(c.attested_share))]);
      if (c.firm) rows.unshift([T.firm, c.firm]);
      for (const [k, v] of rows) {
        const dt = document.createElement("dt"); dt.textContent = k;
        const dd = document.createElement("dd"); dd.textContent = v;
        dl.append(dt, dd);
      }
      box.append(dl);
      const note = document.createElement("p");
      note.className = "muted small";
      note.textContent = T.compare_uscc;
      box.append(note);
    }
    const label = document.createElement("p");
    label.className = "muted small";
    label.textContent = how === "online" ? T.checked_online : T.checked_here;
    if (how !== "online" && statusList && now() - statusList.iat > MAX_AGE) label.textContent += " " + T.list_old;
    box.append(label);
  }

  function remember(result) {
    const c = result.claims || {};
    session.unshift({ at: new Date().toISOString(), uscc: result.verdict === "forged" ? "" : (c.uscc || ""),
      grade: result.verdict === "forged" ? "" : (c.grade || ""), period: result.verdict === "forged" ? "" : (c.period || ""),
      verdict: result.verdict });
    localStorage.setItem("gec-scans", JSON.stringify(session.slice(0, 500)));
    showSession();
  }

  function showSession() {
    const body = $("sv-session").querySelector("tbody");
    body.replaceChildren();
    for (const s of session) {
      const tr = document.createElement("tr");
      for (const [label, value] of [[T.col_time, new Date(s.at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" })],
        [T.uscc, s.uscc], [T.grade, s.grade], [T.period, String(s.period)], [T.col_verdict, T["v_" + s.verdict] || s.verdict]]) {
        const td = document.createElement("td");
        td.dataset.label = label;
        td.textContent = value;
        tr.append(td);
      }
      body.append(tr);
    }
  }

  // Online check, for an algorithm this browser cannot verify: labelled as such.
  async function online(text) {
    const r = await fetch("/api/v1/verify", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: text }) });
    const v = await r.json();
    const claims = v.claims ? { uscc: v.claims.uscc, grade: v.claims.grade, score: v.claims.score, period: v.claims.period,
      exp: Date.parse(v.claims.exp) / 1000, carbon_level: v.claims.carbon_level,
      attested_share: v.claims.attested_share === undefined ? null : v.claims.attested_share, firm: v.firm && v.firm.name } : null;
    const verdict = v.valid ? "valid" : ({ expired: "expired", superseded: "superseded", revoked: "revoked",
      not_yet_valid: "not_yet_valid" }[v.reason] || "forged");
    return { verdict, reason: v.reason, claims };
  }

  async function check(text) {
    text = String(text || "").trim();
    if (!text) return;
    if (!keySet) await refresh();
    if (!keySet) { render({ verdict: "online_needed", reason: "no_keys" }, "device"); return; }
    let result = await GecVerifier.verify(text, keySet, statusList, now());
    if (result.claims && names[result.claims.uscc]) result.claims.firm = names[result.claims.uscc];
    let how = "device";
    if (result.verdict === "online_needed" && navigator.onLine) {
      try { result = await online(text); how = "online"; } catch (_) { /* stays online_needed */ }
    }
    render(result, how);
    remember(result);
  }

  // The camera: the browser's BarcodeDetector where there is one, else jsQR on each frame.
  async function start() {
    document.body.dataset.startMs = String(Math.round(performance.now()));
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      $("sv-support").hidden = false;
      $("sv-support").textContent = T.no_camera;
      return;
    }
    const video = $("sv-video");
    video.srcObject = stream;
    video.hidden = false;
    $("sv-start").hidden = true;
    $("sv-stop").hidden = false;
    await video.play();
    const detector = "BarcodeDetector" in window ? new BarcodeDetector({ formats: ["qr_code"] }) : null;
    const canvas = $("sv-canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const tick = async () => {
      if (!stream) return;
      if (video.readyState >= 2 && video.videoWidth) {
        let text = null;
        if (detector) {
          try { const found = await detector.detect(video); if (found.length) text = found[0].rawValue; } catch (_) { /* next frame */ }
        } else {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          ctx.drawImage(video, 0, 0);
          const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
          const found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
          if (found) text = found.data;
        }
        // The same code again within 3 s is the same scan.
        if (text && (text !== last.text || Date.now() - last.at > 3000)) {
          last = { text, at: Date.now() };
          await check(text);
        }
      }
      setTimeout(tick, 150);
    };
    tick();
  }

  function stop() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $("sv-video").hidden = true;
    $("sv-start").hidden = false;
    $("sv-stop").hidden = true;
  }

  async function fromImage(file) {
    const bitmap = await createImageBitmap(file);
    const canvas = $("sv-canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const found = jsQR(image.data, image.width, image.height);
    if (found) await check(found.data);
    else render({ verdict: "forged", reason: "no_code_found" }, "device");
  }

  function download() {
    const quote = (v) => {
      let s = String(v ?? "");
      if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
      return '"' + s.replace(/"/g, '""') + '"';
    };
    const rows = [[T.col_time, T.uscc, T.grade, T.period, T.col_verdict]]
      .concat(session.map((s) => [s.at, s.uscc, s.grade, s.period, T["v_" + s.verdict] || s.verdict]));
    const blob = new Blob(["\ufeff" + rows.map((r) => r.map(quote).join(",")).join("\r\n") + "\r\n"], { type: "text/csv" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "gec-scans-" + new Date().toISOString().slice(0, 10) + ".csv";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  $("sv-start").addEventListener("click", start);
  $("sv-stop").addEventListener("click", stop);
  $("sv-paste-form").addEventListener("submit", (e) => { e.preventDefault(); check($("sv-text").value); });
  $("sv-image").addEventListener("change", (e) => { if (e.target.files[0]) fromImage(e.target.files[0]); });
  $("sv-download").addEventListener("click", download);
  $("sv-refresh").addEventListener("click", refresh);
  $("sv-clear").addEventListener("click", () => { session.length = 0; localStorage.removeItem("gec-scans"); showSession(); });
  window.addEventListener("online", refresh);
  setInterval(refresh, 60000);
  setInterval(showAge, 30000);

  (async () => {
    ed25519 = await GecVerifier.supportsEd25519();
    if (!ed25519) {
      $("sv-support").hidden = false;
      $("sv-support").textContent = T.no_ed25519;
    }
    if ("serviceWorker" in navigator) {
      try { await navigator.serviceWorker.register("/verify-sw.js", { scope: "/verify" }); } catch (_) { /* works online */ }
    }
    showSession();
    await refresh();
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = "1";
  })();

})();
