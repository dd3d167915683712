// The scanner page's service worker: keeps the page, its scripts, the key set and the latest
// status list, so that /verify works in airplane mode. Network first (a fresh key set and list
// whenever the network answers), the kept copy when it does not. The project's own
// (Apache-2.0 like the rest of the service).
"use strict";

const CACHE = "gec-verify-v1";
// The page in the visitor's language as the install finds it (fetching "?lang=…" here would
// switch the visitor's language); other forms of the page are kept as they are visited.
const KEPT = ["/verify", "/static/app.css", "/static/verify/jsQR.js", "/static/verify/verifier.js",
  "/static/verify/app.js", "/.well-known/gec/keys.json", "/.well-known/gec/status", "/verify/firms.json"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(KEPT)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const path = url.pathname + url.search;
  const kept = KEPT.includes(path) || url.pathname === "/verify";
  if (!kept) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const answer = await fetch(event.request, { cache: "no-store" });
      if (answer.ok) await cache.put(path, answer.clone());
      return answer;
    } catch (offline) {
      const copy = (await cache.match(path)) || (url.pathname === "/verify" ? await cache.match("/verify") : undefined);
      if (copy) return copy;
      throw offline;
    }
  })());
});
