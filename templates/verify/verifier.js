// The green efficiency code verified on the device (token.md §3, §4, §8): strict base32, strict
// deterministic CBOR, the COSE_Sign1 signature with WebCrypto's Ed25519 against the published
// key set, iat/exp, and the status from the signed status list, whose own signature is checked
// the same way. No network: the caller hands in the key set and the status list it has kept.
// This file is the project's own (Apache-2.0 like the rest of the service).
"use strict";

const GecVerifier = (() => {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const SKEW = 300; // iat may be at most 5 minutes ahead of the device's clock
  const EDDSA = -8;
  const SM2 = -70001;

  class Fault extends Error {
    constructor(reason, detail) {
      super(detail || reason);
      this.reason = reason;
    }
  }
  const malformed = (why) => new Fault("malformed", why);

  // The text after the last /C/ (any case), upper-cased; a bare code as it is.
  function codePart(text) {
    const t = String(text).trim();
    const i = t.toUpperCase().lastIndexOf("/C/");
    return (i >= 0 ? t.slice(i + 3) : t).toUpperCase();
  }

  // RFC 4648 base32, strict (token.md §2): A–Z2–7 only, no padding, a length base32 can produce,
  // zero trailing bits.
  function base32Decode(text) {
    if (!/^[A-Z2-7]+$/.test(text)) throw malformed("not base32");
    if ([1, 3, 6].includes(text.length % 8)) throw malformed("a length base32 cannot produce");
    const out = new Uint8Array(Math.floor((text.length * 5) / 8));
    let bits = 0, value = 0, n = 0;
    for (const ch of text) {
      value = (value << 5) | ALPHABET.indexOf(ch);
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (value >> bits) & 0xff;
      }
    }
    if ((value & ((1 << bits) - 1)) !== 0) throw malformed("trailing bits");
    return out;
  }

  // Core deterministic CBOR (RFC 8949 §4.2.1), the subset a code uses: unsigned and negative
  // integers, byte and text strings, arrays, maps, tag 18. Shortest forms, definite lengths,
  // map keys strictly increasing by their encoded bytes; anything else is malformed.
  function cborDecode(bytes) {
    let pos = 0;
    const need = (n) => { if (pos + n > bytes.length) throw malformed("truncated CBOR"); };
    function head() {
      need(1);
      const first = bytes[pos++];
      const major = first >> 5, info = first & 31;
      let arg;
      if (info < 24) arg = info;
      else if (info === 24) { need(1); arg = bytes[pos++]; if (arg < 24) throw malformed("not shortest"); }
      else if (info === 25) { need(2); arg = (bytes[pos] << 8) | bytes[pos + 1]; pos += 2; if (arg < 256) throw malformed("not shortest"); }
      else if (info === 26) {
        need(4);
        arg = ((bytes[pos] << 24) >>> 0) + (bytes[pos + 1] << 16) + (bytes[pos + 2] << 8) + bytes[pos + 3];
        pos += 4;
        if (arg < 65536) throw malformed("not shortest");
      } else if (info === 27) {
        need(8);
        let big = 0n;
        for (let i = 0; i < 8; i++) big = (big << 8n) | BigInt(bytes[pos + i]);
        pos += 8;
        if (big < 4294967296n) throw malformed("not shortest");
        if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed("integer too large");
        arg = Number(big);
      } else throw malformed("indefinite or reserved length");
      return [major, arg];
    }
    function item() {
      const start = pos;
      const [major, arg] = head();
      switch (major) {
        case 0: return arg;
        case 1: return -1 - arg;
        case 2: need(arg); pos += arg; return bytes.slice(pos - arg, pos);
        case 3: {
          need(arg);
          pos += arg;
          try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(pos - arg, pos)); }
          catch (_) { throw malformed("text is not UTF-8"); }
        }
        case 4: { const a = []; for (let i = 0; i < arg; i++) a.push(item()); return a; }
        case 5: {
          const m = new Map();
          let previous = null;
          for (let i = 0; i < arg; i++) {
            const keyStart = pos;
            const key = item();
            const encoded = bytes.slice(keyStart, pos);
            if (previous && compareBytes(previous, encoded) >= 0) throw malformed("map keys not in order");
            previous = encoded;
            m.set(key, item());
          }
          return m;
        }
        case 6: return { tag: arg, value: item(), start };
        default: throw malformed("not a CBOR item a code uses");
      }
    }
    const value = item();
    if (pos !== bytes.length) throw malformed("bytes after the CBOR item");
    return value;
  }

  function compareBytes(a, b) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }

  // Just what the Sig_structure needs: ["Signature1", protected, h'', payload].
  function encodeHead(major, n) {
    if (n < 24) return [(major << 5) | n];
    if (n < 256) return [(major << 5) | 24, n];
    if (n < 65536) return [(major << 5) | 25, n >> 8, n & 255];
    return [(major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  function sigStructure(protectedBytes, payload) {
    const parts = [encodeHead(4, 4), encodeHead(3, 10), Array.from(new TextEncoder().encode("Signature1")),
      encodeHead(2, protectedBytes.length), Array.from(protectedBytes), encodeHead(2, 0),
      encodeHead(2, payload.length), Array.from(payload)];
    return new Uint8Array(parts.flat());
  }

  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  function b64url(text) {
    const s = text.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(s + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  // COSE_Sign1, tag 18, protected exactly {1: alg, 4: kid(8)}, unprotected empty.
  function openSign1(bytes) {
    const top = cborDecode(bytes);
    if (!top || top.tag !== 18 || !Array.isArray(top.value) || top.value.length !== 4) throw malformed("not a COSE_Sign1");
    const [prot, unprot, payload, signature] = top.value;
    if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || unprot.size !== 0 ||
        !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) throw malformed("bad COSE members");
    const header = cborDecode(prot);
    if (!(header instanceof Map) || header.size !== 2) throw malformed("bad protected header");
    const alg = header.get(1), kid = header.get(4);
    if (![EDDSA, SM2].includes(alg) || !(kid instanceof Uint8Array) || kid.length !== 8) throw malformed("bad protected header");
    if (alg === EDDSA && signature.length !== 64) throw malformed("bad signature length");
    return { alg, kid: hex(kid), protected: prot, payload, signature, claims: cborDecode(payload) };
  }

  function claimsOf(map) {
    const gec = map instanceof Map ? map.get(-70000) : null;
    const text = (v) => typeof v === "string";
    const uint = (v) => Number.isInteger(v) && v >= 0;
    if (!(gec instanceof Map) || !text(map.get(1)) || !text(map.get(2)) || !uint(map.get(4)) || !uint(map.get(6)))
      throw malformed("bad claims");
    const grade = gec.get(1), score = gec.get(2), period = gec.get(3), serial = gec.get(6), trace = gec.get(5);
    if (!["A+", "A", "B", "C", "D"].includes(grade) || !uint(score) || score > 10000 || !uint(period) ||
        !text(gec.get(4)) || !(trace instanceof Uint8Array) || trace.length !== 16 || !uint(serial))
      throw malformed("bad GEC claims");
    const carbon = gec.get(7);
    if (carbon !== undefined && !(uint(carbon) && carbon >= 1 && carbon <= 5)) throw malformed("bad carbon level");
    const attested = gec.get(8);
    if (attested !== undefined && !(uint(attested) && attested <= 100)) throw malformed("bad attested share");
    return {
      iss: map.get(1), uscc: map.get(2), exp: map.get(4), iat: map.get(6), grade,
      score: (score / 100).toFixed(2), period, methodology: gec.get(4), serial,
      carbon_level: carbon === undefined ? null : carbon,
      attested_share: attested === undefined ? null : attested,
    };
  }

  // The key of a kid, as the key set publishes it; `at` must fall in its window and before a
  // compromise (token.md §3 step 3).
  function keyFor(keySet, kid, at) {
    const key = (keySet.keys || []).find((k) => k.kid === kid);
    if (!key) throw new Fault("unknown_key");
    const t = (s) => (s ? Date.parse(s) / 1000 : null);
    if (at < t(key.not_before) || (key.not_after && at > t(key.not_after))) throw new Fault("unknown_key", "outside the key's window");
    if (key.status === "compromised" && (!key.compromised_at || at >= t(key.compromised_at))) throw new Fault("key_compromised");
    return key;
  }

  async function ed25519Verify(key, message, signature) {
    if (key.crv !== "Ed25519") throw new Fault("unsupported", key.crv);
    const imported = await crypto.subtle.importKey("raw", b64url(key.x), { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, imported, signature, message);
  }

  // Whether this browser verifies Ed25519 in WebCrypto.
  async function supportsEd25519() {
    try {
      await crypto.subtle.importKey("raw", new Uint8Array(32).fill(1), { name: "Ed25519" }, false, ["verify"]);
      return true;
    } catch (_) { return false; }
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // The signed status list (token.md §8), its signature checked against the key set.
  async function openStatusList(bytes, keySet) {
    const env = openSign1(bytes);
    const m = env.claims;
    if (!(m instanceof Map) || m.size !== 5) throw malformed("bad status list");
    const [issuer, version, iat, size, statuses] = [1, 2, 3, 4, 5].map((k) => m.get(k));
    if (typeof issuer !== "string" || !Number.isInteger(version) || !Number.isInteger(iat) ||
        !Number.isInteger(size) || !(statuses instanceof Uint8Array)) throw malformed("bad status list");
    const key = keyFor(keySet, env.kid, iat);
    if (env.alg !== EDDSA) throw new Fault("unsupported", "status list algorithm");
    if (!(await ed25519Verify(key, sigStructure(env.protected, env.payload), env.signature)))
      throw new Fault("bad_signature", "the status list's signature does not verify");
    if (issuer !== keySet.issuer) throw malformed("the status list's issuer");
    const bits = await inflate(statuses);
    if (bits.length !== Math.ceil((size * 2) / 8)) throw malformed("status list length");
    return {
      issuer, version, iat, size,
      get(serial) {
        if (serial >= size) return null;
        const byte = bits[serial >> 2];
        return ["active", "superseded", "revoked", "not_a_code"][(byte >> (6 - 2 * (serial & 3))) & 3];
      },
    };
  }

  // The verdict of a scanned or pasted text at `now` (seconds): {verdict, reason, claims}.
  // verdict: valid | expired | superseded | revoked | not_yet_valid | forged | unknown_status |
  // online_needed (an algorithm this browser cannot check).
  async function verify(text, keySet, statusList, now) {
    let env, claims;
    try {
      env = openSign1(base32Decode(codePart(text)));
      claims = claimsOf(env.claims);
    } catch (e) {
      return { verdict: "forged", reason: e.reason || "malformed" };
    }
    let key;
    try {
      key = keyFor(keySet, env.kid, claims.iat);
    } catch (e) {
      return { verdict: "forged", reason: e.reason };
    }
    if (env.alg !== EDDSA || key.crv !== "Ed25519") return { verdict: "online_needed", reason: "algorithm" };
    let good;
    try {
      good = await ed25519Verify(key, sigStructure(env.protected, env.payload), env.signature);
    } catch (e) {
      return { verdict: "online_needed", reason: "no_ed25519" };
    }
    if (!good) return { verdict: "forged", reason: "bad_signature" };
    if (claims.iss !== keySet.issuer) return { verdict: "forged", reason: "malformed" };
    if (claims.iat > now + SKEW) return { verdict: "not_yet_valid", reason: "not_yet_valid", claims };
    if (now > claims.exp) return { verdict: "expired", reason: "expired", claims };
    const status = statusList ? statusList.get(claims.serial) : null;
    if (status === "superseded") return { verdict: "superseded", reason: "superseded", claims };
    if (status === "revoked") return { verdict: "revoked", reason: "revoked", claims };
    if (status === "not_a_code") return { verdict: "forged", reason: "malformed" };
    if (status === null) return { verdict: "unknown_status", reason: "unknown_status", claims };
    return { verdict: "valid", reason: null, claims };
  }

  return { verify, openStatusList, supportsEd25519, base32Decode, cborDecode, codePart, Fault };
})();

if (typeof self !== "undefined") self.GecVerifier = GecVerifier;
