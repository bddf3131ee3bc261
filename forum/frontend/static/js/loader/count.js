/* Comment counts for a listing page: <span data-forum-count="SLUG or URL"></span> and
   <script src="https://FORUM/count.js" async></script>. One request for up to 100 keys;
   each element gets "N comments" (data-forum-count-one / data-forum-count-other with {n}
   on the script tag change the wording). */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src, location.href).origin;
  var one = script.getAttribute('data-forum-count-one') || '{n} comment';
  var other = script.getAttribute('data-forum-count-other') || '{n} comments';
  var els = Array.prototype.slice.call(document.querySelectorAll('[data-forum-count]'));
  var keys = [];
  els.forEach(function (el) {
    var k = el.getAttribute('data-forum-count');
    if (k && keys.indexOf(k) < 0 && keys.length < 100) keys.push(k);
  });
  if (!keys.length) return;
  var q = keys.map(function (k) { return 'topic=' + encodeURIComponent(k); }).join('&');
  fetch(origin + '/api/counts?' + q, { credentials: 'omit', mode: 'cors' })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || !data.counts) return;
      els.forEach(function (el) {
        var n = data.counts[el.getAttribute('data-forum-count')];
        if (typeof n === 'number') el.textContent = (n === 1 ? one : other).replace('{n}', String(n));
      });
    })
    .catch(function () { /* counts are decoration: leave the page as it is */ });
})();
