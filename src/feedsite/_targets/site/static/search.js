// feedsite search page: queries the static index in ../searchindex/ (see _search.py).
// Tokens follow the same rules as the builder: NFKC, lower case; CJK runs give overlapping
// bigrams (a lone CJK character stands for itself); other letter/digit runs of 2+ are words.
// A post matches when it holds every token; title matches first, then the newest.
const root = new URL("../", import.meta.url); // assets/ -> site root
const base = new URL("searchindex/", root);
const form = document.querySelector(".search-form");
const input = document.getElementById("q");
const status = document.getElementById("status");
const list = document.getElementById("results");
const SHOWN = 50;
const RANKED = 300;

// tokens: begin (tests/site/test_search.py runs this part in Node against _search.tokens)
const CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff";
const BIGRAM = new RegExp(`(?=([${CJK}]{2}))`, "gu");
const LONE = new RegExp(`(?<![${CJK}])[${CJK}](?![${CJK}])`, "gu");
const CJK_RUN = new RegExp(`[${CJK}]+`, "gu");
const WORD = /[\p{L}\p{N}]{2,}/gu;

function normalize(text) {
  return text.normalize("NFKC").toLowerCase();
}

function tokens(query) {
  const text = normalize(query);
  const found = new Set();
  for (const m of text.replace(CJK_RUN, " ").replace(/_/g, " ").matchAll(WORD)) found.add(m[0]);
  for (const m of text.matchAll(BIGRAM)) found.add(m[1]);
  for (const m of text.matchAll(LONE)) found.add(m[0]);
  return [...found];
}

function shardOf(token, shards) {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
// tokens: end

const cache = new Map();
function getJson(url) {
  if (!cache.has(url)) {
    cache.set(url, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.json();
    }));
  }
  return cache.get(url);
}

async function postings(seg, token) {
  const shard = await getJson(new URL(`${seg.id}/s${shardOf(token, seg.shards)}.json`, base).href);
  const deltas = shard[token];
  if (!deltas) return [];
  const out = new Array(deltas.length);
  let n = 0;
  for (let i = 0; i < deltas.length; i++) out[i] = n += deltas[i];
  return out;
}

async function matches(seg, toks) {
  const lists = await Promise.all(toks.map((t) => postings(seg, t)));
  lists.sort((a, b) => a.length - b.length);
  let hits = lists[0];
  for (const other of lists.slice(1)) {
    const set = new Set(other);
    hits = hits.filter((n) => set.has(n));
  }
  const dead = new Set(seg.dead);
  return hits.filter((n) => !dead.has(n));
}

async function doc(meta, seg, n) {
  const chunk = await getJson(new URL(`${seg.id}/d${Math.floor(n / meta.chunk)}.json`, base).href);
  const [path, title, source, date, excerpt] = chunk[n % meta.chunk];
  return { path, title, source, date, excerpt };
}

// highlight: begin (tests/site/test_search_highlight.py runs this part in Node)
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Matches on the text itself, then escapes each piece: matching on escaped HTML would mark
// inside entities (`&<mark>lt</mark>;`, issue #10 row 16). Every occurrence of every token is
// found, overlapping ones included, and overlapping matches are merged into one mark: a CJK
// query's bigrams overlap (图书馆 → 图书 书馆), and marking the first match only left 馆 out.
function highlight(text, toks) {
  const words = toks.filter((t) => t.length > 1).sort((a, b) => b.length - a.length);
  if (!words.length) return escapeHtml(text);
  const alternatives = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const pattern = new RegExp(`(?=(${alternatives}))`, "giu");
  const spans = [];
  for (const m of text.matchAll(pattern)) {
    const start = m.index;
    const end = start + m[1].length;
    const open = spans[spans.length - 1];
    if (open && start < open[1]) open[1] = Math.max(open[1], end);
    else spans.push([start, end]);
  }
  let out = "";
  let last = 0;
  for (const [start, end] of spans) {
    out += escapeHtml(text.slice(last, start)) + "<mark>" + escapeHtml(text.slice(start, end)) + "</mark>";
    last = end;
  }
  return out + escapeHtml(text.slice(last));
}
// highlight: end

async function run(q) {
  history.replaceState(null, "", "?q=" + encodeURIComponent(q));
  const toks = tokens(q);
  if (!toks.length) { list.innerHTML = ""; status.textContent = q.trim() ? "0 条结果 results" : ""; return; }
  status.textContent = "…";
  const meta = await getJson(new URL("meta.json", base).href);
  const found = [];
  for (const seg of meta.segments) {
    for (const n of await matches(seg, toks)) found.push([seg, n]);
  }
  const docs = await Promise.all(found.slice(0, RANKED).map(([seg, n]) => doc(meta, seg, n)));
  const needle = normalize(q).trim();
  const ranked = docs
    .map((d, i) => ({ d, i, title: normalize(d.title).includes(needle) ? 0 : 1 }))
    .sort((a, b) => a.title - b.title || a.i - b.i)
    .slice(0, SHOWN);
  status.textContent = found.length + " 条结果 results";
  list.innerHTML = ranked.map(({ d }) => {
    const href = new URL(d.path, root).href;
    return `<li><a href="${escapeHtml(href)}">${highlight(d.title || "(untitled)", toks)}</a>` +
      `<p class="meta">${escapeHtml(d.source)} · ${escapeHtml(d.date)}</p>` +
      `<p class="excerpt">${highlight(d.excerpt, toks)}</p></li>`;
  }).join("");
}

form.addEventListener("submit", (e) => { e.preventDefault(); run(input.value); });
const initial = new URLSearchParams(location.search).get("q");
if (initial) { input.value = initial; run(initial); }
