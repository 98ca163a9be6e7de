/* A methodology version's diagram, or two side by side: bpmn-js draws each, then marks the
   steps and flows a comparison found added, changed or removed, and both open on the same
   part of the drawing, around what changed. The page passes each diagram's URL and its marks
   in data- attributes; no inline script. */
(function () {
  "use strict";

  var MARKERS = { added: "iisg-added", changed: "iisg-changed", removed: "iisg-removed" };
  var MARGIN = 120; // diagram units around the changes
  var SMALLEST = { width: 900, height: 450 }; // never closer than this: the steps around show
  var containers = Array.prototype.slice.call(
    document.querySelectorAll(".version-diagram[data-diagram-url]")
  );

  function say(container, message) {
    var status = container.parentNode.querySelector(".diagram-status");
    if (status) {
      status.textContent = message;
    }
  }

  function extent(element) {
    if (element.waypoints) {
      var xs = element.waypoints.map(function (p) { return p.x; });
      var ys = element.waypoints.map(function (p) { return p.y; });
      return { left: Math.min.apply(null, xs), top: Math.min.apply(null, ys),
               right: Math.max.apply(null, xs), bottom: Math.max.apply(null, ys) };
    }
    return { left: element.x, top: element.y,
             right: element.x + element.width, bottom: element.y + element.height };
  }

  function union(a, b) {
    if (!a) { return b; }
    if (!b) { return a; }
    return { left: Math.min(a.left, b.left), top: Math.min(a.top, b.top),
             right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom) };
  }

  function draw(container) {
    var marks = JSON.parse(container.dataset.markers || "{}");
    var viewer = new window.BpmnJS({ container: container });
    say(container, "Drawing the diagram…");
    return fetch(container.dataset.diagramUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(container.dataset.diagramUrl + " answered " + response.status);
        }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        var changed = null;
        Object.keys(MARKERS).forEach(function (kind) {
          (marks[kind] || []).forEach(function (id) {
            var element = registry.get(id);
            if (element) {
              canvas.addMarker(id, MARKERS[kind]);
              changed = union(changed, extent(element));
            }
          });
        });
        canvas.zoom("fit-viewport", "auto");
        return { container: container, canvas: canvas, changed: changed };
      })
      .catch(function () {
        say(container, "The diagram could not be drawn; download the .bpmn file to read it.");
        return null;
      });
  }

  function focus(drawn, around) {
    var width = Math.max(around.right - around.left + 2 * MARGIN, SMALLEST.width);
    var height = Math.max(around.bottom - around.top + 2 * MARGIN, SMALLEST.height);
    var middle = { x: (around.left + around.right) / 2, y: (around.top + around.bottom) / 2 };
    drawn.canvas.viewbox({ x: middle.x - width / 2, y: middle.y - height / 2,
                           width: width, height: height });
  }

  if (!containers.length) {
    return;
  }
  if (typeof window.BpmnJS !== "function") {
    containers.forEach(function (c) { say(c, "The diagram viewer could not be loaded."); });
    return;
  }
  Promise.all(containers.map(draw)).then(function (results) {
    var drawn = results.filter(Boolean);
    var around = drawn.reduce(function (box, d) { return union(box, d.changed); }, null);
    drawn.forEach(function (d) {
      // Both diagrams open on the same part of the drawing, the part that changed.
      if (around) {
        focus(d, around);
      }
      d.container.classList.add("is-drawn");
      say(d.container, "");
    });
  });
})();
