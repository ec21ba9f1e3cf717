// Live updates: unfinished tasks on the page are polled once a second (status,
// progress); a task page reloads itself when its task ends, to show its media.
(function () {
  "use strict";
  function unfinished() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-task][data-finished="no"]'));
  }
  function apply(element, task) {
    var status = element.querySelector("[data-status]");
    var progress = element.querySelector("[data-progress]");
    if (status) {
      status.textContent = task.status;
      status.className = "badge " + task.status;
    }
    if (progress) {
      progress.value = task.progress;
      progress.textContent = task.progress + "%";
    }
    if (task.finished) {
      element.setAttribute("data-finished", "yes");
      if (element.getAttribute("data-reload") === "yes") { window.location.reload(); }
    }
  }
  function poll() {
    var elements = unfinished();
    if (!elements.length) { return; }
    var ids = elements.map(function (e) { return e.getAttribute("data-task"); });
    fetch("/console/api/tasks?ids=" + encodeURIComponent(ids.join(",")), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) { window.location.assign("/console/login"); return null; }
      return response.ok ? response.json() : null;
    }).then(function (tasks) {
      if (!tasks) { return; }
      tasks.forEach(function (task) {
        elements.forEach(function (element) {
          if (element.getAttribute("data-task") === task.id) { apply(element, task); }
        });
      });
    }).catch(function () { /* the next tick tries again */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.getAttribute("data-page") === "tasks" || document.body.getAttribute("data-page") === "task") {
      window.setInterval(poll, 1000);
    }
  });
})();
