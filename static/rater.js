/* Raters' pages: save each answer as it is given; keep answers in this browser while the network is down and
   send them when it returns (each answer is a set-this-value request, so sending one twice changes nothing).
   No inline script anywhere (CSP); the page works without this file through its save buttons.
   The queue belongs to one access key (<body data-key>), not to the browser: on a shared office PC another
   rater's session never sends or sees it, pages without a rater's session (the code page) never send it, and
   退出 removes it. An answer refused for want of a session (401) or a live key (403) stays queued. */
(function () {
  "use strict";
  var KEY_ID = document.body ? document.body.getAttribute("data-key") : null;
  var QUEUE_KEY = KEY_ID ? "assessment-rater-queue-v2-" + KEY_ID : null;
  var form = document.querySelector("form[data-autosave]");
  var statusBox = document.getElementById("net-status");
  var saveLine = document.querySelector("[data-save-status]");
  var flushing = false;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function loadQueue() {
    if (!QUEUE_KEY) { return {}; }
    try { return JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function storeQueue(queue) {
    if (!QUEUE_KEY) { return; }
    try { window.localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); } catch (e) { /* private mode: online only */ }
  }
  /* Answers queued before the queue belonged to a key (one browser-wide "v1" queue) move into this key's queue
     once and the old entry is removed: the rater's own answers are then sent; any other rater's are refused by
     the server (not this rater's assignment) and dropped, never stored under this rater. */
  (function adoptOldQueue() {
    var OLD_KEY = "assessment-rater-queue-v1";
    if (!QUEUE_KEY) { return; }
    try {
      var old = JSON.parse(window.localStorage.getItem(OLD_KEY) || "null");
      if (old && typeof old === "object") {
        var queue = loadQueue();
        Object.keys(old).forEach(function (k) { if (!(k in queue)) { queue[k] = old[k]; } });
        storeQueue(queue);
      }
      window.localStorage.removeItem(OLD_KEY);
    } catch (e) { /* private mode or a damaged entry: nothing to adopt */ }
  })();
  function showStatus(text) {
    if (!statusBox) { return; }
    statusBox.textContent = text || "";
    statusBox.hidden = !text;
  }
  function boxFor(a, q) {
    return document.querySelector('.answer[data-assignment="' + a + '"][data-question="' + q + '"]');
  }
  function mark(box, state) {
    if (!box) { return; }
    box.classList.remove("saving", "saved", "queued", "failed");
    if (state) { box.classList.add(state); }
  }
  function valueOf(box) {
    var checked = box.querySelector('input[type="radio"]:checked');
    if (checked) { return checked.value; }
    var na = box.querySelector('input[type="checkbox"]');
    if (na && na.checked) { return "na"; }
    var num = box.querySelector('input[type="number"]');
    return num ? num.value.trim() : null;
  }
  function isAnswered(box) {
    var v = valueOf(box);
    return v !== null && v !== "";
  }
  function updateProgress() {
    if (!form) { return; }
    var boxes = form.querySelectorAll(".answer");
    var n = 0;
    boxes.forEach(function (b) { if (isAnswered(b)) { n += 1; } });
    var before = form.querySelectorAll(".answer.answered").length;  /* answered when the page was built */
    document.querySelectorAll("[data-count-answered]").forEach(function (el) { el.textContent = String(n); });
    document.querySelectorAll("[data-count-all]").forEach(function (el) {
      el.textContent = String(parseInt(el.getAttribute("data-count-all"), 10) + n - before);
    });
    document.querySelectorAll("progress[data-progress]").forEach(function (el) { el.value = n; });
  }
  function freshToken() {
    return fetch("/rater/csrf", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json().catch(function () { return null; }) : null; })
      .then(function (data) {
        if (data && data.token) {
          document.querySelector('meta[name="csrf-token"]').setAttribute("content", data.token);
          return true;
        }
        return false;
      });
  }
  function send(item, retried) {
    return fetch("/rater/answer", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ assignment: item.a, question: item.q, value: item.v })
    }).then(function (response) {
      if (response.ok) { return { done: true }; }
      return response.json().catch(function () { return {}; }).then(function (body) {
        var error = (body && body.error) || {};
        if (response.status === 400 && error.code === "csrf_failed" && !retried) {
          return freshToken().then(function (ok) { return ok ? send(item, true) : { done: false, keep: true }; });
        }
        if (response.status >= 500 || response.status === 429) { return { done: false, keep: true }; }
        /* No session (the browser dropped its cookie) or no live key: keep every answer, send nothing more. */
        if (response.status === 401 || response.status === 403) {
          return { done: false, keep: true, stop: true, message: error.message };
        }
        return { done: false, keep: false, message: error.message || "保存失败，请刷新页面后重试。" };
      });
    });
  }
  function flush() {
    if (flushing || !QUEUE_KEY) { return; }
    var queue = loadQueue();
    var keys = Object.keys(queue);
    if (!keys.length) { showStatus(""); return; }
    flushing = true;
    var offline = false;
    var stopped = null;
    var chain = Promise.resolve();
    keys.forEach(function (k) {
      chain = chain.then(function () {
        if (offline || stopped !== null) { return; }
        var item = queue[k];
        var box = boxFor(item.a, item.q);
        mark(box, "saving");
        return send(item).then(function (result) {
          var now = loadQueue();
          if (result.done || !result.keep) {
            if (now[k] && now[k].t === item.t) { delete now[k]; storeQueue(now); }
            mark(box, result.done ? "saved" : "failed");
            if (!result.done && saveLine) { saveLine.textContent = result.message; }
          } else {
            mark(box, "queued");
            if (result.stop) { stopped = result.message || ""; }
          }
        }, function () {
          offline = true;
          mark(box, "queued");
        });
      });
    });
    chain.then(function () {
      flushing = false;
      var left = Object.keys(loadQueue()).length;
      if (stopped !== null) {
        showStatus(left + " 个答案已暂存在本机，尚未保存。" + stopped + " 重新进入问卷后会自动保存。");
      } else if (offline || left) {
        showStatus("网络暂时不通：" + left + " 个答案已暂存在本机，网络恢复后会自动保存。请不要清除浏览器数据。");
      } else {
        showStatus("");
        if (saveLine) { saveLine.textContent = "答案已自动保存。"; }
      }
    });
  }
  function enqueue(box) {
    var a = parseInt(box.getAttribute("data-assignment"), 10);
    var q = box.getAttribute("data-question");
    var v = valueOf(box);
    if (v === null) { return; }
    var num = box.querySelector('input[type="number"]');
    if (num && v !== "na" && v !== "" && !num.checkValidity()) {
      mark(box, "failed");
      if (saveLine) { saveLine.textContent = "分数应在 " + num.min + "–" + num.max + " 之间。"; }
      return;
    }
    var queue = loadQueue();
    queue[a + ":" + q] = { a: a, q: q, v: v, t: Date.now() };
    storeQueue(queue);
    mark(box, "queued");
    flush();
  }
  function restoreQueued() {
    var queue = loadQueue();
    Object.keys(queue).forEach(function (k) {
      var item = queue[k];
      var box = boxFor(item.a, item.q);
      if (!box) { return; }
      if (box.querySelector("input:disabled")) { return; }
      var radio = box.querySelector('input[type="radio"][value="' + item.v + '"]');
      if (radio) { radio.checked = true; }
      var num = box.querySelector('input[type="number"]');
      var na = box.querySelector('input[type="checkbox"]');
      if (num) { num.value = item.v === "na" ? "" : item.v; }
      if (na) { na.checked = item.v === "na"; }
      mark(box, "queued");
    });
  }

  if (form) {
    form.addEventListener("change", function (event) {
      var box = event.target.closest(".answer");
      if (!box) { return; }
      if (event.target.type === "checkbox" && event.target.checked) {
        var num = box.querySelector('input[type="number"]');
        if (num) { num.value = ""; }
      } else if (event.target.type === "number" && event.target.value !== "") {
        var na = box.querySelector('input[type="checkbox"]');
        if (na) { na.checked = false; }
      }
      updateProgress();
      enqueue(box);
    });
    restoreQueued();
    updateProgress();
  }
  document.querySelectorAll("form[data-exit]").forEach(function (f) {
    f.addEventListener("submit", function () {
      if (QUEUE_KEY) { try { window.localStorage.removeItem(QUEUE_KEY); } catch (e) { /* nothing kept */ } }
    });
  });
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function () {
      window.setTimeout(function () {
        f.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { flush(); } });
  window.setInterval(function () { if (Object.keys(loadQueue()).length) { flush(); } }, 20000);
  flush();
})();
