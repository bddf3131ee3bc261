/* The forum's comment widget loader. Paste under an article:
   <div id="forum-thread"></div>
   <script src="https://FORUM/embed.js" data-forum-topic="SLUG" async></script>
   Options (data- attributes of the script tag): data-forum-topic, data-forum-url (else the
   page's <link rel="canonical">), data-forum-title, data-forum-theme (light|dark|auto),
   data-forum-lang, data-forum-container (default "forum-thread"); the blog's look:
   data-forum-accent, -accent-text, -link, -bg, -text (#colours), -font (a font list),
   -radius (a length), checked by the forum before use.
   The widget runs in an iframe from the forum's origin: the page's scripts never see a
   reader's token, and neither side's CSS touches the other. Messages are checked both ways:
   here only from our iframe's window and the forum's origin. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src, location.href).origin;
  var d = script.dataset;
  var container = document.getElementById(d.forumContainer || 'forum-thread');
  if (!container || container.getAttribute('data-forum-ready')) return;
  container.setAttribute('data-forum-ready', '1');
  var canonical = document.querySelector('link[rel="canonical"]');
  var url = d.forumUrl || (canonical && canonical.href) || '';
  if (!d.forumTopic && !url) url = location.href.split('#')[0];
  var q = new URLSearchParams();
  if (d.forumTopic) q.set('topic', d.forumTopic);
  if (url) q.set('url', url);
  // the embed page takes at most 300 characters of title (the thread's title is cut shorter still)
  q.set('title', (d.forumTitle || document.title || '').trim().slice(0, 300));
  q.set('theme', d.forumTheme || 'auto');
  q.set('lang', d.forumLang || document.documentElement.lang || 'en');
  q.set('parent', location.origin);
  var look = ['accent', 'accent-text', 'link', 'bg', 'text', 'font', 'radius'].map(function (n) {
    var v = script.getAttribute('data-forum-' + n);
    return v ? n + ':' + v : '';
  }).filter(Boolean).join(';');
  if (look) q.set('vars', look);
  var m = /^#comment-(\d+)$/.exec(location.hash);
  if (m) q.set('comment', m[1]);
  var frame = document.createElement('iframe');
  frame.src = origin + '/embed/thread?' + q.toString();
  frame.title = d.forumFrameTitle || 'Comments';
  frame.setAttribute('scrolling', 'no');
  frame.setAttribute('allow', 'clipboard-write');
  frame.setAttribute('referrerpolicy', 'no-referrer');
  var s = frame.style;
  s.width = '100%'; s.minWidth = '100%'; s.border = '0'; s.height = '12rem'; s.colorScheme = 'normal';
  s.display = 'block'; s.overflow = 'hidden'; s.visibility = 'hidden';
  container.appendChild(frame);

  function send(msg) {
    if (frame.contentWindow) frame.contentWindow.postMessage(msg, origin);
  }
  window.addEventListener('message', function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    var msg = e.data;
    if (!msg || msg.forum !== 1) return;
    if (msg.type === 'resize' && msg.height > 0) {
      s.height = Math.ceil(msg.height) + 'px';
      s.visibility = 'visible';
    } else if (msg.type === 'scroll' && msg.top >= 0) {
      var top = frame.getBoundingClientRect().top + window.pageYOffset + msg.top - 16;
      window.scrollTo({ top: top, behavior: 'auto' });
    } else if (msg.type === 'hash' && /^#comment-\d+$/.test(msg.hash) && history.replaceState) {
      history.replaceState(null, '', msg.hash);
    }
  });
  window.addEventListener('hashchange', function () {
    if (/^#comment-\d+$/.test(location.hash)) send({ forum: 1, type: 'hash', hash: location.hash });
  });
})();
