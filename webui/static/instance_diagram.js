/* The instance page's diagram: bpmn-js draws the version's BPMN, marks the steps done and the
   steps current, and opens at a size where the labels can be read, around the current steps.
   Buttons (and keys, on the focused diagram) zoom in and out, fit the whole diagram, or go
   back to the current steps. The page passes its URLs in data- attributes; no inline script. */
(function () {
  "use strict";

  var READABLE = 1; // the scale at which a step's label is as large as the page's small text
  var STEP = 1.25; // one zoom in or out
  var SMALLEST = 0.2;
  var LARGEST = 4;
  var MOVE = 80; // pixels an arrow key moves the drawing

  var container = document.getElementById("diagram");
  var status = document.getElementById("diagram-status");
  var controls = document.getElementById("diagram-controls");
  if (!container) {
    return;
  }

  function say(message) {
    if (status) {
      status.textContent = message;
    }
  }

  if (typeof window.BpmnJS !== "function") {
    say("The diagram viewer could not be loaded; the steps are listed above.");
    return;
  }

  function fetchOk(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + " answered " + response.status);
      }
      return response;
    });
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
    return { left: Math.min(a.left, b.left), top: Math.min(a.top, b.top),
             right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom) };
  }

  /* Whether an element is drawn on the open plane: in the process, or in its pool. */
  function onPlane(element, root) {
    var parent = element.parent;
    while (parent && parent !== root && parent.type === "bpmn:Participant") {
      parent = parent.parent;
    }
    return parent === root;
  }

  /* Mark the steps drawn on the open plane; the extent of those marked. */
  function mark(viewer, ids, marker) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var root = canvas.getRootElement();
    var marked = null;
    ids.forEach(function (id) {
      var element = registry.get(id);
      // A step the diagram does not draw (none expected) is skipped, not an error.
      if (element) {
        canvas.addMarker(id, marker);
        // A step inside a collapsed subprocess is drawn on a plane of its own.
        if (onPlane(element, root)) {
          marked = union(marked, extent(element));
        }
      }
    });
    return marked;
  }

  var viewer = new window.BpmnJS({ container: container });
  var canvas = null;
  var current = null;

  /* The whole diagram if its labels can be read that way; else a readable part of it,
     around the current steps (or its beginning). */
  function readable() {
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox();
    if (box.scale >= READABLE) {
      return;
    }
    var width = box.outer.width / READABLE;
    var height = box.outer.height / READABLE;
    var around = current || { left: box.inner.x, right: box.inner.x + width,
                              top: box.inner.y, bottom: box.inner.y + box.inner.height };
    var middle = { x: (around.left + around.right) / 2, y: (around.top + around.bottom) / 2 };
    canvas.viewbox({ x: middle.x - width / 2, y: middle.y - height / 2,
                     width: width, height: height });
  }

  function zoomBy(factor) {
    var scale = Math.min(LARGEST, Math.max(SMALLEST, canvas.zoom() * factor));
    canvas.zoom(scale);
  }

  var actions = {
    "zoom-in": function () { zoomBy(STEP); },
    "zoom-out": function () { zoomBy(1 / STEP); },
    "fit": function () { canvas.zoom("fit-viewport", "auto"); },
    "current": readable
  };

  function act(name) {
    if (canvas && actions[name]) {
      actions[name]();
      container.dataset.scale = String(canvas.zoom());
    }
  }

  if (controls) {
    controls.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (button) {
        act(button.dataset.action);
      }
    });
  }

  var KEYS = { "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "0": "fit", "1": "current" };
  var ARROWS = { ArrowLeft: [MOVE, 0], ArrowRight: [-MOVE, 0],
                 ArrowUp: [0, MOVE], ArrowDown: [0, -MOVE] };
  container.addEventListener("keydown", function (event) {
    if (!canvas || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (KEYS[event.key]) {
      act(KEYS[event.key]);
    } else if (ARROWS[event.key]) {
      canvas.scroll({ dx: ARROWS[event.key][0], dy: ARROWS[event.key][1] });
    } else {
      return;
    }
    event.preventDefault();
  });

  say("Drawing the diagram…");
  Promise.all([
    fetchOk(container.dataset.diagramUrl).then(function (r) { return r.text(); }),
    fetchOk(container.dataset.stateUrl).then(function (r) { return r.json(); })
  ])
    .then(function (loaded) {
      return viewer.importXML(loaded[0]).then(function () { return loaded[1]; });
    })
    .then(function (state) {
      canvas = viewer.get("canvas");
      mark(viewer, state.done || [], "is-done");
      current = mark(viewer, state.current || [], "is-current");
      act("current");
      if (controls) {
        controls.hidden = false;
      }
      container.classList.add("is-drawn");
      say("");
    })
    .catch(function () {
      say("The diagram could not be drawn; the steps are listed above.");
    });
})();
