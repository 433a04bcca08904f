#!/usr/bin/env node
// Load a Hexo site with the real Hexo and print what Hexo made of its posts.
//
//   node load_posts.js <site_dir>
//
// <site_dir> is a Hexo site: _config.yml, package.json (with a "hexo" key and the
// plugins as dependencies, as `hexo init` writes it), node_modules, source/_posts/.
// Hexo is booted the way the `hexo` command boots it (new Hexo(dir), init(), load()),
// so _config.yml and the plugins are read as in a real build; nothing is generated
// to disk and no db.json is written.
//
// Prints ONE JSON object on stdout:
//   {
//     "hexo": "8.x.y",                     Hexo's version
//     "errors": ["WARN ...", "ERROR ..."], everything Hexo logged at warn level or above
//     "posts": [{
//        "source": "a/b/c/0123456789abcdef.md",  relative to source/_posts
//        "title": "...",
//        "date": "2024-01-01T00:00:00.000Z",     the instant, in UTC
//        "categories": [["a"], ["a", "b"], ["a", "b", "c"]],  each category's parent chain
//        "tags": ["a tag", ...],                                  the post's tags, in order
//        "published": true,
//        "content": "<div>...</div>"             the rendered HTML
//     }],
//     "stats": {"seconds": 1.2, "max_rss_kb": 123456}
//   }
// Exit status 0 when the JSON was printed, 1 when Hexo could not even load
// (the JSON still lists the errors), 2 on bad usage.
//
// Hexo skips a post whose front matter it cannot read, logs an error and carries
// on: callers must compare the posts listed here with the files they wrote.

'use strict';

const path = require('path');
const util = require('util');

const started = process.hrtime.bigint();
const errors = [];

function describe(level, args) {
  const parts = [];
  const rest = [...args];
  let err;
  if (rest.length && rest[0] !== null && typeof rest[0] === 'object' && !(rest[0] instanceof Error)) {
    err = rest.shift().err;
  } else if (rest[0] instanceof Error) {
    err = rest.shift();
  }
  parts.push(`${level} ${util.format(...rest)}`);
  // The message and the top of the stack say which file and which step failed.
  if (err) parts.push(String(err.stack || err.message || err).split('\n').slice(0, 8).join('\n'));
  return parts.join('\n');
}

function capture(log) {
  // hexo-log binds the aliases (w, e) at creation: replace them too.
  const wrap = level => (...args) => { errors.push(describe(level, args)); };
  log.warn = log.w = wrap('WARN');
  log.error = log.e = wrap('ERROR');
  log.fatal = wrap('FATAL');
}

function categoryChains(post, Category) {
  return post.categories.map(cat => {
    const chain = [];
    const seen = new Set();
    for (let c = cat; c; c = c.parent ? Category.findById(c.parent) : null) {
      if (seen.has(c._id)) break;
      seen.add(c._id);
      chain.unshift(c.name);
    }
    return chain;
  });
}

function emit(result, code) {
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  result.stats = { seconds: Math.round(elapsed * 1000) / 1000, max_rss_kb: process.resourceUsage().maxRSS };
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
}

async function main() {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node load_posts.js <site_dir>\n');
    process.exit(2);
  }
  const siteDir = path.resolve(process.argv[2]);
  // Hexo is resolved from the site, as the `hexo` command resolves it.
  const Hexo = require(require.resolve('hexo', { paths: [siteDir] }));
  const hexo = new Hexo(siteDir, { silent: true });
  capture(hexo.log);
  process.on('unhandledRejection', err => { errors.push(describe('UNHANDLED', [err])); });

  try {
    await hexo.init();
    if (!hexo.env.init) {
      throw new Error(`${siteDir} is not a Hexo site: its package.json has no "hexo" key`);
    }
    await hexo.load();
  } catch (err) {
    errors.push(describe('FATAL', [err]));
    emit({ hexo: hexo.version, errors, posts: [] }, 1);
    return;
  }

  const Category = hexo.model('Category');
  const prefix = '_posts/';
  const posts = hexo.model('Post').toArray().map(post => ({
    source: post.source.startsWith(prefix) ? post.source.slice(prefix.length) : post.source,
    title: post.title,
    date: post.date ? post.date.toDate().toISOString() : null,
    categories: categoryChains(post, Category),
    tags: post.tags.map(tag => tag.name),
    published: post.published,
    content: post.content
  }));
  posts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  emit({ hexo: hexo.version, errors, posts }, 0);
}

main();
