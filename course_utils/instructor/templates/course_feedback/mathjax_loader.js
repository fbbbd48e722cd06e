/* Load MathJax from the Jupyter server that serves this page (PyPI jupyter-server-mathjax:
   <base_url>static/jupyter_server_mathjax/MathJax.js), never from a CDN.
   The base URL is read from the page's own address, so one file works wherever it is opened:
   /files/..., /lab/tree/... or JupyterLab's HTML viewer (whose <base> is the file's /files/ URL),
   under "/" (make lab) or "/user/<name>/" (JupyterHub). A page opened from disk tries the
   script's data-fallback (the installed package's file:// path, written by the report only). */
(function () {
  var script = document.currentScript;
  var page = document.baseURI || window.location.href;
  var candidates = [];
  var hub = /^(https?:\/\/[^\/]+\/user\/[^\/]+\/)/.exec(page);
  var server = /^(https?:\/\/[^\/]+\/(?:[^?#]*?\/)?)(?:files|lab\/tree|lab\/workspaces\/[^\/]+\/tree|tree|view|edit|notebooks)\//.exec(page);
  var base = hub ? hub[1] : (server ? server[1] : null);
  if (base) candidates.push(base + "static/jupyter_server_mathjax/MathJax.js");
  if (script && script.getAttribute("data-fallback")) candidates.push(script.getAttribute("data-fallback"));
  window.MathJax = {
    tex2jax: {
      inlineMath: [["$", "$"], ["\\(", "\\)"]],
      displayMath: [["$$", "$$"], ["\\[", "\\]"]],
      processEscapes: true,
      processEnvironments: true
    },
    TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
    displayAlign: "center",
    messageStyle: "none",
    CommonHTML: {linebreaks: {automatic: true}}
  };
  function load(i) {
    if (i >= candidates.length) return;
    var tag = document.createElement("script");
    tag.src = candidates[i] + "?config=TeX-AMS-MML_HTMLorMML-full,Safe";
    tag.onerror = function () { load(i + 1); };
    document.head.appendChild(tag);
  }
  load(0);
})();
