// Shared helpers of the deterministic generators (seed.mjs, members-csv.mjs).

/** mulberry32: a small deterministic PRNG; returns a function giving [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  next.chance = (p) => next() < p;
  next.shuffle = (arr) => {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [arr[i], arr[j]] = [arr[j], arr[i]];
    }
    return arr;
  };
  next.sample = (arr, k) => next.shuffle(arr.slice()).slice(0, Math.min(k, arr.length));
  return next;
}

/** Parse `--name value` options against a spec { name: default }; exits 2 on a bad one. */
export function options(argv, spec, usage) {
  const o = { ...spec };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)$/.exec(argv[i]);
    const key = m && m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!m || !(key in spec) || argv[i + 1] === undefined) {
      process.stderr.write(`${usage}\n`);
      process.exit(2);
    }
    o[key] = argv[++i];
  }
  return o;
}

export function intOpt(o, k, min = 0) {
  const n = Number(o[k]);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} must be an integer >= ${min}\n`);
    process.exit(2);
  }
  return n;
}

/** Randomly vary the case of an email: lower, upper, or swapped letters. */
export function recase(r, email) {
  switch (r.int(0, 2)) {
    case 0: return email.toLowerCase() === email ? email.toUpperCase() : email.toLowerCase();
    case 1: return email.toUpperCase();
    default: return [...email].map((c) => (r.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join("");
  }
}

/** One RFC 4180 field: quoted when it holds a comma, quote, CR, LF or edge spaces. */
export function csvField(s) {
  s = String(s);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
