/* The instance page's diagram: bpmn-js draws the version's BPMN, then marks the steps done
   and the steps current. The page passes its URLs in data- attributes; no inline script. */
(function () {
  "use strict";

  var container = document.getElementById("diagram");
  var status = document.getElementById("diagram-status");
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

  function mark(viewer, ids, marker) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    ids.forEach(function (id) {
      // A step the diagram does not draw (none expected) is skipped, not an error.
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
      }
    });
  }

  say("Drawing the diagram…");
  var viewer = new window.BpmnJS({ container: container });
  Promise.all([
    fetchOk(container.dataset.diagramUrl).then(function (r) { return r.text(); }),
    fetchOk(container.dataset.stateUrl).then(function (r) { return r.json(); })
  ])
    .then(function (loaded) {
      return viewer.importXML(loaded[0]).then(function () { return loaded[1]; });
    })
    .then(function (state) {
      mark(viewer, state.done || [], "is-done");
      mark(viewer, state.current || [], "is-current");
      viewer.get("canvas").zoom("fit-viewport", "auto");
      container.classList.add("is-drawn");
      say("");
    })
    .catch(function () {
      say("The diagram could not be drawn; the steps are listed above.");
    });
})();
