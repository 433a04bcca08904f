// feedsite search page: Pagefind's JS API over the bundle in ../pagefind/.
// Pagefind keeps one index per language (each post's <html lang>). Every index is searched;
// the one matching the query's script (CJK -> "zh", else the others) is weighted first.
const root = new URL("../", import.meta.url); // assets/ -> site root
const bundle = new URL("pagefind/", root);
const form = document.querySelector(".search-form");
const input = document.getElementById("q");
const status = document.getElementById("status");
const list = document.getElementById("results");
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/;
const OTHER_WEIGHT = 0.2;

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

let modulePromise = null;
let entryPromise = null;
const instances = {};

async function instanceFor(prefersCjk) {
  const key = prefersCjk ? "cjk" : "other";
  if (!instances[key]) {
    instances[key] = (async () => {
      modulePromise = modulePromise || import(new URL("pagefind.js", bundle).href);
      entryPromise = entryPromise || fetch(new URL("pagefind-entry.json", bundle)).then((r) => r.json());
      const [pagefind, entry] = await Promise.all([modulePromise, entryPromise]);
      const primary = (document.documentElement.lang || "unknown").toLowerCase().split("-")[0];
      const weight = (lang) => ((lang === "zh") === prefersCjk ? 1 : OTHER_WEIGHT);
      const inst = pagefind.createInstance({ basePath: bundle.href, baseUrl: "/" });
      await inst.options({ indexWeight: weight(primary) });
      // The same bundle under another spelling: Pagefind skips a merge of its primary's path.
      const again = bundle.href + "./";
      for (const lang of Object.keys(entry.languages || {})) {
        if (lang !== primary) await inst.mergeIndex(again, { language: lang, indexWeight: weight(lang) });
      }
      await inst.init();
      return inst;
    })();
  }
  return instances[key];
}

async function run(q) {
  history.replaceState(null, "", "?q=" + encodeURIComponent(q));
  if (!q.trim()) { list.innerHTML = ""; status.textContent = ""; return; }
  status.textContent = "…";
  const inst = await instanceFor(CJK.test(q));
  const found = await inst.search(q);
  const data = await Promise.all(found.results.slice(0, 50).map((r) => r.data()));
  status.textContent = found.results.length + " 条结果 results";
  list.innerHTML = data.map((d) => {
    const href = new URL(d.url.replace(/^\/+/, ""), root).href;
    const title = escapeHtml((d.meta && d.meta.title) || d.url);
    return `<li><a href="${href}">${title}</a><p class="excerpt">${d.excerpt}</p></li>`;
  }).join("");
}

form.addEventListener("submit", (e) => { e.preventDefault(); run(input.value); });
const initial = new URLSearchParams(location.search).get("q");
if (initial) { input.value = initial; run(initial); }
