"""Approves submissions FIRST..FIRST+COUNT-1 through POST /api/v1/approvals, 10,000 ids a
request, one request at a time; prints the codes issued, the refusals by reason and the rate.
Usage: python3 benches/approve_all.py BASE TOKEN FIRST COUNT"""
import collections, http.client, json, sys, time, urllib.parse

base, token, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = http.client.HTTPConnection(urllib.parse.urlparse(base).netloc, timeout=600)
approved, refused, reasons = 0, 0, collections.Counter()
started = time.time()
for start in range(first, first + count, 10_000):
    ids = list(range(start, min(start + 10_000, first + count)))
    conn.request("POST", "/api/v1/approvals", json.dumps({"ids": ids}),
                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse(); body = r.read()
    assert r.status == 200, (r.status, body[:300])
    answer = json.loads(body)
    approved += answer["approved"]; refused += answer["refused"]
    for refusal in answer["refusals"]:
        p = refusal["problem"]
        reasons[p.get("field") or p["code"]] += 1
elapsed = time.time() - started
print(f"approved {approved} refused {refused} {dict(reasons)} in {elapsed:.1f} s: {approved / elapsed:.0f} codes/s")
