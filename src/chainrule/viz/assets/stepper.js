// chainrule: step through the backward pass drawn on the page.
// The steps come from a JSON block written by chainrule.viz (render_html.py).
// Every string from the user is set with textContent, never parsed as HTML.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cr-data").textContent);
  var svg = document.querySelector(".cr-drawing svg");
  var panel = document.getElementById("cr-panel");
  var prev = document.getElementById("cr-prev");
  var next = document.getElementById("cr-next");
  var counter = document.getElementById("cr-counter");
  var steps = data.steps;
  var current = 0;

  function byId(id) { return svg.querySelector('[data-id="' + id + '"]'); }

  var gradText = {};
  Array.prototype.forEach.call(svg.querySelectorAll(".tensor"), function (g) {
    var t = g.querySelector("text.grad");
    if (t) { gradText[g.getAttribute("data-id")] = t; }
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function clearHighlight() {
    Array.prototype.forEach.call(svg.querySelectorAll(".current, .active-in, .active-out, .active"),
      function (e) { e.classList.remove("current", "active-in", "active-out", "active"); });
  }

  function highlight(step) {
    byId(step.gate).classList.add("current");
    step.rows.forEach(function (r) { if (r.id) { byId(r.id).classList.add("active-in"); } });
    step.outputs.forEach(function (id) { byId(id).classList.add("active-out"); });
    Array.prototype.forEach.call(svg.querySelectorAll(".edge"), function (e) {
      if (e.getAttribute("data-to") === step.gate || e.getAttribute("data-from") === step.gate) {
        e.classList.add("active");
      }
    });
  }

  function describe(k) {
    panel.textContent = "";
    if (k === 0) {
      panel.appendChild(el("div", "", data.intro));
      return;
    }
    var step = steps[k - 1];
    panel.appendChild(el("div", "cr-head", "Step " + k + " of " + steps.length + ": gate " +
      step.symbol + " (" + step.name + "), output " + step.output));
    var up = el("div", "", "upstream gradient: ");
    up.appendChild(el("span", "cr-up", step.upstream));
    panel.appendChild(up);
    var table = el("table");
    var head = el("tr");
    ["input", step.elementwise ? "upstream \u00d7 local = downstream" : "downstream (the gate's vjp)",
     "received"].forEach(function (h) { head.appendChild(el("th", "", h)); });
    table.appendChild(head);
    step.rows.forEach(function (r) {
      var tr = el("tr", "cr-row");
      tr.appendChild(el("td", "cr-input", r.label));
      var math;
      if (r.downstream === null) {
        math = "no gradient (needs none)";
      } else if (step.elementwise) {
        math = step.upstream + " \u00d7 " + r.local + " = " + r.downstream;
      } else {
        math = r.downstream + "   (local, for an all-ones upstream: " + r.local + ")";
      }
      tr.appendChild(el("td", "cr-math", math));
      tr.appendChild(el("td", "cr-received", r.received || ""));
      table.appendChild(tr);
    });
    panel.appendChild(table);
    if (k === steps.length) {
      panel.appendChild(el("div", "cr-done", "Done: every gradient is filled in."));
    }
  }

  function show(k) {
    current = k;
    var grads = {};
    var id;
    for (id in data.initial) { grads[id] = data.initial[id]; }
    for (var i = 0; i < k; i++) {
      for (id in steps[i].set) { grads[id] = steps[i].set[id]; }
    }
    for (id in gradText) { gradText[id].textContent = grads[id] || ""; }
    clearHighlight();
    if (k > 0) { highlight(steps[k - 1]); }
    describe(k);
    prev.disabled = k === 0;
    next.disabled = k === steps.length;
    counter.textContent = "step " + k + " of " + steps.length;
  }

  prev.addEventListener("click", function () { if (current > 0) { show(current - 1); } });
  next.addEventListener("click", function () { if (current < steps.length) { show(current + 1); } });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight" && current < steps.length) { show(current + 1); e.preventDefault(); }
    if (e.key === "ArrowLeft" && current > 0) { show(current - 1); e.preventDefault(); }
  });
  show(0);
}());
