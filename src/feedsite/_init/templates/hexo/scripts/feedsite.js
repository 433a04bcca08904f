// Site scripts of a feedsite news site (written by `feedsite init`; Hexo loads scripts/*.js).
//
// 1. The front-end libraries Volantis loads are copied from node_modules into
//    public/lib/<package>/ (see cdn_system in _config.volantis.yml): the site never asks a
//    CDN for them. Their versions are pinned in package.json.
// 2. The navigation's 分类 menu (the item with `feedsite_categories: true`) gets the site's
//    category tree, category > site > feed, from the posts at every build.
// 3. A post page shows its title under its header image (Volantis hides the title of a
//    post with a `headimg` unless its front matter says `title_display: true`).
// 4. Feed text is text (issue #10 rows 1, 2). The front matter holds the feed's exact title
//    (tests compare it), but Volantis 6.8.3 prints `title` raw in many places (<h1>, the
//    cards, `alt="…"`, `title='…'`, prev/next, the archive, <title>) and the covers raw into
//    `src='…'`. So, in memory and only for the templates, every post and page the templates
//    can reach gets its title, seo_title and author HTML-escaped once, and its covers
//    (headimg, thumbnail) and source_url kept only when they are plain http(s) URLs with
//    nothing that could end an attribute (else dropped). The places that escape by
//    themselves use Hexo's escape_html, which leaves existing entities alone: no double
//    escaping. The search index (content.json, read by the theme's search box with
//    innerHTML) gets its titles and category names escaped as HTML text; Atom (nunjucks,
//    autoescaped) is generated before any of this and keeps the exact text. One sink is in
//    the theme's browser code: app.js copies document.title (text) into the sub-navbar's
//    `.nav-sub .title` with innerHTML; a script at the end of each page makes that one
//    element's innerHTML setter write text.
// 5. Cards show the card thumbnail (issue #12): Volantis draws a card's image from
//    `headimg`; feedsite writes `thumbnail` as the small card version of the header. On a
//    list page (home, archives, categories) each post of `page.posts` is seen through an
//    overlay whose headimg is its thumbnail; the post itself, and its own page, keep the
//    full header.
//
// None of them touches source/_posts: feedsite owns those files (3 and 4 change values in
// memory, at render time; the database Hexo saves in db.json keeps the exact text).
'use strict';
const fs = require('fs');
const path = require('path');

const VENDOR = {
  'jquery': ['dist/jquery.min.js'],
  '@fortawesome/fontawesome-free': ['css/all.min.css', 'webfonts'],
  'vanilla-lazyload': ['dist/lazyload.min.js'],
  '@fancyapps/ui': ['dist/fancybox/fancybox.css', 'dist/fancybox/fancybox.umd.js'],
  'izitoast': ['dist/css/iziToast.min.css', 'dist/js/iziToast.min.js'],
  'marked': ['marked.min.js'],
  'swiper': ['swiper-bundle.min.css', 'swiper-bundle.min.js'],
};

function walk(file) {
  if (!fs.statSync(file).isDirectory()) return [file];
  return fs.readdirSync(file).sort().flatMap(name => walk(path.join(file, name)));
}

hexo.extend.generator.register('feedsite_vendor', () => {
  const modules = path.join(hexo.base_dir, 'node_modules');
  const routes = [];
  for (const [name, entries] of Object.entries(VENDOR)) {
    for (const entry of entries) {
      for (const file of walk(path.join(modules, name, entry))) {
        const rel = path.relative(path.join(modules, name), file).split(path.sep).join('/');
        routes.push({ path: `lib/${name}/${rel}`, data: () => fs.createReadStream(file) });
      }
    }
  }
  return routes;
});

hexo.extend.filter.register('before_generate', function () {
  const menu = (hexo.theme.config.navbar || {}).menu || [];
  const item = menu.find(m => m && m.feedsite_categories);
  if (!item) return;
  const categories = this.locals.get('categories');
  const children = parent => categories
    .filter(c => (c.parent || null) === parent && c.length > 0)
    .sort('name')
    .map(c => {
      const rows = children(c._id);
      // Volantis prints a menu entry's name raw (text and title="…").
      const entry = { name: escapeHtml(`${c.name} (${c.length})`), url: c.path };
      return rows.length ? { ...entry, rows } : entry;
    });
  item.rows = children(null);
});

hexo.extend.filter.register('template_locals', locals => {
  const page = locals.page;
  if (page && page.layout === 'post' && page.title_display === undefined) {
    page.title_display = true;
  }
  return locals;
});

// -- 4. feed text is text -------------------------------------------------------------------

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** `text` as HTML text, fit for an element or a quoted attribute ('…' or "…"). */
function escapeHtml(text) {
  return String(text).replace(/[&<>"'`]/g, ch => HTML_ESCAPES[ch]);
}

/** Escapes for a text node only (content.json: the search box sets it as innerHTML). */
function escapeText(text) {
  return String(text).replace(/[&<>]/g, ch => HTML_ESCAPES[ch]);
}

// An absolute http(s) URL with nothing that ends an attribute or a srcset entry, or a path on
// the site ("/img/x.png"). feedsite writes only such covers (feedsite._url.safe_url); a hand
// edited or older post may not.
const SAFE_URL = /^(?:https?:\/\/[^\s"'<>`\\]+|\/(?![\/\\])[^\s"'<>`\\]*)$/i;

/** The URL fit for `src='…'`/`href="…"` ("&" written as "&amp;"), or undefined. The front
 * matter holds the URL as plain text (`?w=1&h=2`); the theme prints it raw. */
function safeUrl(url) {
  if (typeof url !== 'string' || !SAFE_URL.test(url)) return undefined;
  return url.replace(/&/g, '&amp;');
}

const TEXT_KEYS = ['title', 'seo_title', 'author', 'category', 'tag'];
const URL_KEYS = ['headimg', 'thumbnail', 'source_url'];
// Marks an object whose values are already escaped. An enumerable own symbol: Hexo copies a
// post into its page with `{ ...post }`, and the copy keeps the mark (no double escaping).
const ESCAPED = Symbol('feedsite.escaped');

function escapeValues(obj) {
  if (!obj || typeof obj !== 'object' || Object.prototype.hasOwnProperty.call(obj, ESCAPED)) return;
  Object.defineProperty(obj, ESCAPED, { value: true, enumerable: true });
  for (const key of TEXT_KEYS) {
    if (typeof obj[key] === 'string') obj[key] = escapeHtml(obj[key]);
  }
  for (const key of URL_KEYS) {
    if (obj[key] !== undefined && obj[key] !== null) obj[key] = safeUrl(obj[key]);
  }
}

// Lists already gone through: site.posts is one object for every page of a build.
const escapedLists = new WeakSet();

function escapeList(list) {
  if (!list || typeof list !== 'object' || escapedLists.has(list)) return;
  escapedLists.add(list);
  const items = typeof list.toArray === 'function' ? list.toArray() : list;
  if (Array.isArray(items)) items.forEach(escapeValues);
}

/** The list with each post seen as a card: its headimg is its thumbnail (a Warehouse Query
 * of overlays, so the theme's `.each` and `.length` work as on the original). */
function asCards(list) {
  if (!list || typeof list.toArray !== 'function') return list;
  const cards = list.toArray().map(post => (post && post.thumbnail
    ? Object.create(post, { headimg: { value: post.thumbnail, enumerable: true, writable: true } })
    : post));
  return new list.constructor(cards);
}

// Runs for every page once all generators have run (content.json and atom.xml are made by
// then, from the exact values), before any template renders.
hexo.extend.filter.register('template_locals', locals => {
  const page = locals.page;
  if (page) {
    escapeValues(page);
    escapeValues(page.prev);
    escapeValues(page.next);
    escapeList(page.posts);
    if (page.posts) page.posts = asCards(page.posts);
  }
  if (locals.site) escapeList(locals.site.posts);
  return locals;
}, 1);

const jsonContent = hexo.extend.generator.get('json-content');
if (jsonContent) {
  const escapeEntry = (entry, seen) => {
    if (!entry || typeof entry !== 'object' || seen.has(entry)) return;
    seen.add(entry);
    if (typeof entry.title === 'string') entry.title = escapeText(entry.title);
    for (const key of ['categories', 'tags']) {
      for (const c of Array.isArray(entry[key]) ? entry[key] : []) {
        if (!c || typeof c !== 'object' || seen.has(c)) continue;
        seen.add(c);
        if (typeof c.name === 'string') c.name = escapeText(c.name);
      }
    }
  };
  hexo.extend.generator.register('json-content', function (site) {
    return Promise.resolve(Reflect.apply(jsonContent, this, [site])).then(out => {
      if (!out || typeof out.data !== 'string') return out;
      const data = JSON.parse(out.data);
      const posts = Array.isArray(data) ? data : [...(data.posts || []), ...(data.pages || [])];
      const seen = new Set();
      posts.forEach(entry => escapeEntry(entry, seen));
      if (!Array.isArray(data)) escapeEntry({ categories: data.categories, tags: data.tags }, seen);
      return { ...out, data: JSON.stringify(data) };
    });
  });
}

// Volantis app.js (fn.setHeader, on DOMContentLoaded): `wrapper.find('.nav-sub .title')
// .html(document.title.split(" - ")[0])`, i.e. the page's title *text* set as HTML. This runs
// before DOMContentLoaded and makes that element take what is written to its innerHTML as text.
hexo.extend.injector.register('body_end', `<script>(function () {
  var html = Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML');
  document.querySelectorAll('.nav-sub .title').forEach(function (el) {
    Object.defineProperty(el, 'innerHTML', {
      configurable: true,
      get: function () { return html.get.call(el); },
      set: function (text) { el.textContent = text; },
    });
  });
})();</script>`);
