// Site scripts of a feedsite news site (written by `feedsite init`; Hexo loads scripts/*.js).
//
// 1. The front-end libraries Volantis loads are copied from node_modules into
//    public/lib/<package>/ (see cdn_system in _config.volantis.yml): the site never asks a
//    CDN for them. Their versions are pinned in package.json.
// 2. The navigation's 分类 menu (the item with `feedsite_categories: true`) gets the site's
//    category tree, category > site > feed, from the posts at every build.
// 3. A post page shows its title under its header image (Volantis hides the title of a
//    post with a `headimg` unless its front matter says `title_display: true`).
//
// None of them touches source/_posts: feedsite owns those files (3 sets a flag in memory, at render time).
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
      const entry = { name: `${c.name} (${c.length})`, url: c.path };
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
