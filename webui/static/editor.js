/* The methodology editor: the bpmn-js modeler on one version's diagram, a panel for the
   selected step (name, documentation, role, what its page shows, form), the forms as JSON, and the server's
   checks shown as a list and as highlights on the canvas. The page passes its URLs, the
   CSRF token and its words in data- attributes and a JSON block; no inline script. */
(function () {
  "use strict";

  const root = document.getElementById("editor");
  if (!root) {
    return;
  }
  const words = JSON.parse(document.getElementById("editor-messages").textContent);
  const $ = (id) => document.getElementById(id);
  const status = $("editor-status");
  const MAX_DIAGRAM_BYTES = 2 * 1024 * 1024;
  const CHECK_DELAY_MS = 700;
  const READABLE_ZOOM = 0.8;
  const PALETTE_ROOM = 150; // diagram units left free for the palette on the canvas's left
  const PROBLEM = "iisg-problem";
  const WARNING = "iisg-warning";
  const ROLE = "role";
  const SHOWS = "shows";
  const FORM = "formJsonSchemaFilename";
  const FORM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.json$/;

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, key) =>
      values && key in values ? String(values[key]) : whole
    );
  }

  function tell(message) {
    status.textContent = message;
  }

  if (typeof window.BpmnJS !== "function") {
    tell(words.noModeler);
    return;
  }

  const modeler = new window.BpmnJS({
    container: $("editor-canvas"),
    moddleExtensions: { spiffworkflow: window.IisgSpiffworkflowModdle }
  });
  const canvas = modeler.get("canvas");
  // A diagram may have lanes in the model but none drawn (some modelers export it so).
  // bpmn-js would take every moved step out of its lane (it places steps by the lanes
  // drawn), so while no lane is drawn, lane membership is left as the diagram has it; new
  // steps name their role. Where the lanes are drawn (ours are), a step dropped in a lane
  // is done by that lane's role, as bpmn-js has it.
  modeler.get("eventBus").on("commandStack.lane.updateRefs.preExecute", 2000, (event) => {
    const lanesDrawn = Boolean(modeler.get("elementRegistry").find((e) => e.type === "bpmn:Lane"));
    if (!lanesDrawn) {
      event.context.flowNodeShapes = [];
      event.context.laneShapes = [];
    }
  });
  const registry = modeler.get("elementRegistry");
  const modeling = modeler.get("modeling");
  const selection = modeler.get("selection");

  const state = {
    forms: {},
    selected: null,
    marked: [],
    problems: [],
    checkSeq: 0,
    checkTimer: null,
    dirty: false,
    proposable: null // {url, summary} of the saved draft the canvas still shows
  };

  // ---- talking to the server ----

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": root.dataset.csrfToken
      },
      body: JSON.stringify(body)
    });
  }

  function currentDraft() {
    return modeler.saveXML({ format: true }).then((saved) => ({
      xml: saved.xml,
      forms: Object.assign({}, state.forms)
    }));
  }

  // ---- problems: the list, the summary, the highlights ----

  function problemWhere(problem) {
    const parts = [];
    if (problem.element_id) {
      const element = registry.get(problem.element_id);
      const name = element && element.businessObject.name;
      parts.push(name ? name + " (" + problem.element_id + ")" : problem.element_id);
    }
    if (problem.file && /\.json$/.test(problem.file)) {
      parts.push(say(words.inForm, { file: problem.file }));
    }
    // A line helps in a form's JSON; in the diagram the step is what the person sees.
    if (problem.line && (!problem.element_id || /\.json$/.test(problem.file || ""))) {
      parts.push(say(words.atLine, { line: problem.line }));
    }
    return parts.join(", ");
  }

  function clearMarkers() {
    state.marked.forEach((mark) => {
      if (registry.get(mark.id)) {
        canvas.removeMarker(mark.id, mark.marker);
      }
    });
    state.marked = [];
  }

  function markProblems(problems) {
    clearMarkers();
    problems.forEach((problem) => {
      const id = problem.element_id;
      if (!id || !registry.get(id)) {
        return;
      }
      const marker = problem.severity === "warning" ? WARNING : PROBLEM;
      canvas.addMarker(id, marker);
      state.marked.push({ id: id, marker: marker });
    });
  }

  function showProblems(problems, dryRun) {
    state.problems = problems;
    const list = $("problems-list");
    list.textContent = "";
    problems.forEach((problem) => {
      const item = document.createElement("li");
      item.className = "problem problem-" + (problem.severity || "error");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "problem-button";
      const severity = document.createElement("strong");
      severity.textContent =
        (problem.severity === "warning" ? words.warning : words.error) + ": ";
      button.appendChild(severity);
      button.appendChild(document.createTextNode(problem.message));
      const where = problemWhere(problem);
      if (where) {
        const place = document.createElement("span");
        place.className = "problem-where";
        place.textContent = " — " + where;
        button.appendChild(place);
      }
      button.addEventListener("click", () => goToProblem(problem));
      item.appendChild(button);
      list.appendChild(item);
    });
    const errors = problems.filter((p) => p.severity !== "warning").length;
    const warnings = problems.length - errors;
    let summary = words.noProblems;
    if (errors) {
      summary = say(words.problemsFound, { errors: errors, warnings: warnings });
    } else if (warnings) {
      summary = say(words.onlyWarnings, { warnings: warnings });
    }
    $("problems-summary").textContent = summary;
    root.classList.toggle("has-problems", errors > 0);
    markProblems(problems);
    showFormProblems(problems);
    const dry = $("dry-run-list");
    dry.textContent = "";
    (dryRun || []).forEach((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      dry.appendChild(item);
    });
    $("dry-run").hidden = !(dryRun && dryRun.length);
  }

  function goToProblem(problem) {
    if (problem.file && state.forms[problem.file] !== undefined && !problem.element_id) {
      showTab("forms");
      const area = document.querySelector('[data-form-name="' + CSS.escape(problem.file) + '"]');
      if (area) {
        area.focus();
      }
      return;
    }
    const element = problem.element_id && registry.get(problem.element_id);
    if (!element) {
      return;
    }
    selection.select(element);
    canvas.scrollToElement(element);
    showTab("step");
    $("element-heading").focus();
  }

  // ---- checking ----

  function runCheck() {
    const seq = ++state.checkSeq;
    $("problems-summary").textContent = words.checking;
    return currentDraft()
      .then((draft) => send(root.dataset.checkUrl, draft))
      .then((response) =>
        response.json().then((body) => {
          if (!response.ok && !body.problems) {
            throw new Error(String(response.status));
          }
          return body;
        })
      )
      .then((body) => {
        if (seq === state.checkSeq) {
          showProblems(body.problems || [], body.dry_run || []);
        }
        return body;
      })
      .catch((err) => {
        if (seq === state.checkSeq) {
          $("problems-summary").textContent = say(words.checkFailed, { error: err.message });
        }
      });
  }

  function scheduleCheck() {
    window.clearTimeout(state.checkTimer);
    state.checkTimer = window.setTimeout(runCheck, CHECK_DELAY_MS);
  }

  function changed() {
    state.dirty = true;
    if (state.proposable) {
      state.proposable = null;
      $("propose-section").hidden = true;
      tell(words.changedSinceSave);
    }
    scheduleCheck();
  }

  // ---- saving and proposing ----

  function offerProposal(url, summary, version) {
    state.proposable = { url: url };
    const form = $("propose-form");
    form.action = url;
    $("propose-summary").value = summary;
    $("propose-version").textContent = say(words.proposeVersion, { version: version });
    $("propose-section").hidden = false;
  }

  function save() {
    const button = $("editor-save");
    button.disabled = true;
    window.clearTimeout(state.checkTimer);
    state.checkSeq++; // a check still on its way would show an older diagram's problems
    tell(words.saving);
    return currentDraft()
      .then((draft) => send(root.dataset.draftsUrl, draft))
      .then((response) =>
        response.json().then((body) => ({ response: response, body: body }))
      )
      .then((answer) => {
        const body = answer.body;
        if (answer.response.status === 201) {
          state.dirty = false;
          tell(say(words.saved, { version: body.version }));
          offerProposal(body.propose_url, (body.changes || []).join("\n"), body.version);
          $("saved-links").hidden = false;
          $("saved-version-link").href = body.version_url;
          $("saved-compare-link").href = body.compare_url;
          runCheck(); // the warnings of what was saved, if any
          return;
        }
        showProblems(body.problems || [], body.dry_run || []);
        tell(say(words.saveRefused, { count: (body.problems || []).length }));
        $("problems-heading").focus();
      })
      .catch((err) => tell(say(words.saveFailed, { error: err.message })))
      .finally(() => {
        button.disabled = false;
      });
  }

  // ---- the selected step ----

  const steps = window.IisgStepProperties(modeler);
  const is = steps.is;
  const propertyOf = steps.propertyOf;
  const setProperty = steps.setProperty;
  const documentationOf = steps.documentationOf;
  const setDocumentation = steps.setDocumentation;
  const kindOf = steps.kindOf;
  const takesRole = steps.takesRole;
  const takesForm = steps.takesForm;

  function target() {
    return state.selected || canvas.getRootElement();
  }

  // "The whole procedure" is the process; where the diagram draws it as a pool, the root
  // is the collaboration around it, and the process is the pool's.
  function wholeProcess() {
    const bo = canvas.getRootElement().businessObject;
    if (!is(bo, "bpmn:Collaboration")) {
      return bo;
    }
    const pool = (bo.participants || []).find((p) => p.processRef);
    return pool ? pool.processRef : bo;
  }

  // The selected element's semantic object, the process for the whole procedure.
  function targetObject() {
    const element = target();
    return element === canvas.getRootElement() ? wholeProcess() : element.businessObject;
  }

  function fillFormChoices(current) {
    const select = $("element-form");
    const names = Object.keys(state.forms).sort();
    if (current && names.indexOf(current) < 0) {
      names.push(current); // named by the diagram but missing: the check says so
    }
    select.textContent = "";
    const none = document.createElement("option");
    none.value = "";
    none.textContent = words.noForm;
    select.appendChild(none);
    names.forEach((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      select.appendChild(option);
    });
    select.value = current || "";
  }

  function showElement() {
    const element = target();
    if (!element.businessObject) {
      return; // nothing drawn yet
    }
    const bo = targetObject();
    const whole = element === canvas.getRootElement();
    $("element-heading").textContent = whole
      ? words.wholeProcedure
      : bo.name || say(words.unnamed, { kind: kindOf(bo) });
    $("element-kind").textContent = whole
      ? ""
      : say(words.kindAndId, { kind: kindOf(bo), id: bo.id });
    const active = document.activeElement;
    if (active !== $("element-name")) {
      $("element-name").value = bo.name || "";
    }
    if (active !== $("element-documentation")) {
      $("element-documentation").value = documentationOf(bo);
    }
    $("element-role-field").hidden = !takesRole(bo);
    $("element-role").value = propertyOf(bo, ROLE);
    $("element-shows-field").hidden = !is(bo, "bpmn:UserTask");
    $("element-shows").value = propertyOf(bo, SHOWS);
    $("element-form-field").hidden = !takesForm(bo);
    fillFormChoices(propertyOf(bo, FORM));
    $("element-picker").value = whole ? "" : bo.id;
  }

  function fillPicker() {
    const picker = $("element-picker");
    const chosen = picker.value;
    picker.textContent = "";
    const whole = document.createElement("option");
    whole.value = "";
    whole.textContent = words.wholeProcedure;
    picker.appendChild(whole);
    registry
      .filter((e) => e.type !== "label" && is(e.businessObject, "bpmn:FlowNode"))
      .map((e) => ({ id: e.id, label: (e.businessObject.name || kindOf(e.businessObject)) + " (" + e.id + ")" }))
      .sort((a, b) => a.label.localeCompare(b.label))
      .forEach((entry) => {
        const option = document.createElement("option");
        option.value = entry.id;
        option.textContent = entry.label;
        picker.appendChild(option);
      });
    picker.value = registry.get(chosen) ? chosen : "";
  }

  // ---- the forms ----

  function jsonProblem(text) {
    try {
      JSON.parse(text);
      return "";
    } catch (err) {
      const message = String(err.message);
      let line = null;
      let column = null;
      const lineColumn = /line (\d+) column (\d+)/.exec(message);
      const position = /position (\d+)/.exec(message);
      if (lineColumn) {
        line = Number(lineColumn[1]);
        column = Number(lineColumn[2]);
      } else if (position) {
        const before = text.slice(0, Number(position[1])).split("\n");
        line = before.length;
        column = before[before.length - 1].length + 1;
      }
      const reason = message.replace(/\s*\(line \d+ column \d+\)/, "");
      return line
        ? say(words.jsonAt, { line: line, column: column, error: reason })
        : say(words.jsonBroken, { error: reason });
    }
  }

  function renderForms() {
    const list = $("forms-list");
    list.textContent = "";
    Object.keys(state.forms)
      .sort()
      .forEach((name, index) => {
        const wrap = document.createElement("div");
        wrap.className = "field form-file";
        const id = "form-file-" + index;
        const label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = name;
        const area = document.createElement("textarea");
        area.id = id;
        area.rows = 12;
        area.spellcheck = false;
        area.className = "json-text";
        area.dataset.formName = name;
        area.value = state.forms[name];
        const syntax = document.createElement("p");
        syntax.id = id + "-syntax";
        syntax.className = "field-error";
        const server = document.createElement("ul");
        server.id = id + "-server";
        server.className = "field-error form-server-problems";
        area.setAttribute("aria-describedby", syntax.id + " " + server.id);
        area.addEventListener("input", () => {
          state.forms[name] = area.value;
          showSyntax(area, syntax);
          changed();
        });
        wrap.appendChild(label);
        wrap.appendChild(area);
        wrap.appendChild(syntax);
        wrap.appendChild(server);
        list.appendChild(wrap);
        showSyntax(area, syntax);
      });
    $("forms-empty").hidden = Object.keys(state.forms).length > 0;
  }

  function showSyntax(area, syntax) {
    const problem = jsonProblem(area.value);
    syntax.textContent = problem;
    if (problem) {
      area.setAttribute("aria-invalid", "true");
    } else {
      area.removeAttribute("aria-invalid");
    }
  }

  function showFormProblems(problems) {
    document.querySelectorAll("#forms-list textarea").forEach((area) => {
      const server = $(area.id + "-server");
      server.textContent = "";
      problems
        .filter((p) => p.file === area.dataset.formName)
        .forEach((p) => {
          const item = document.createElement("li");
          item.textContent = p.message;
          server.appendChild(item);
        });
    });
  }

  function starterForm(title) {
    return JSON.stringify(
      {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: title,
        type: "object",
        required: ["note"],
        properties: {
          note: { type: "string", title: words.starterField, minLength: 1, maxLength: 2000 }
        }
      },
      null,
      2
    ) + "\n";
  }

  function addForm(name, title) {
    if (!FORM_NAME.test(name)) {
      return say(words.formName, { name: name });
    }
    if (state.forms[name] !== undefined) {
      return say(words.formExists, { name: name });
    }
    state.forms[name] = starterForm(title || name);
    renderForms();
    changed();
    return "";
  }

  // ---- tabs (the ARIA tabs pattern: arrows move between them) ----

  const tabs = ["step", "forms"];

  function showTab(name) {
    tabs.forEach((tab) => {
      const selected = tab === name;
      $("tab-" + tab).setAttribute("aria-selected", String(selected));
      $("tab-" + tab).tabIndex = selected ? 0 : -1;
      $("panel-" + tab).hidden = !selected;
    });
  }

  tabs.forEach((tab, index) => {
    const button = $("tab-" + tab);
    button.addEventListener("click", () => showTab(tab));
    button.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) {
        return;
      }
      event.preventDefault();
      const next = tabs[(index + step + tabs.length) % tabs.length];
      showTab(next);
      $("tab-" + next).focus();
    });
  });

  // ---- wiring ----

  modeler.on("selection.changed", (event) => {
    const chosen = event.newSelection.filter((e) => e.type !== "label");
    state.selected = chosen.length === 1 ? chosen[0] : null;
    showElement();
  });
  modeler.on("elements.changed", () => showElement());
  modeler.on("commandStack.changed", (event) => {
    fillPicker();
    // Importing a diagram clears the undo stack: that is loading, not a change.
    if (event.trigger !== "clear") {
      changed();
    }
  });

  $("element-picker").addEventListener("change", (event) => {
    const element = event.target.value && registry.get(event.target.value);
    if (element) {
      selection.select(element);
      canvas.scrollToElement(element);
    } else {
      selection.select(null);
    }
  });
  $("element-name").addEventListener("change", (event) => {
    const element = target();
    const bo = targetObject();
    const name = { name: event.target.value.trim() || undefined };
    if (bo === element.businessObject) {
      modeling.updateProperties(element, name); // updates the drawn label too
    } else {
      modeling.updateModdleProperties(element, bo, name);
    }
  });
  $("element-documentation").addEventListener("change", (event) => {
    setDocumentation(target(), event.target.value, targetObject());
  });
  $("element-role").addEventListener("change", (event) => {
    setProperty(target(), ROLE, event.target.value);
  });
  $("element-shows").addEventListener("change", (event) => {
    setProperty(target(), SHOWS, event.target.value);
  });
  $("element-form").addEventListener("change", (event) => {
    setProperty(target(), FORM, event.target.value);
  });
  $("element-new-form").addEventListener("click", () => {
    const element = target();
    const bo = element.businessObject;
    const slug = (bo.name || bo.id).toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    const name = root.dataset.processKey + "_" + slug.slice(0, 60) + ".json";
    const refused = state.forms[name] === undefined ? addForm(name, bo.name || bo.id) : "";
    $("element-form-message").textContent = refused;
    if (!refused) {
      setProperty(element, FORM, name);
      $("element-form-message").textContent = say(words.formCreated, { name: name });
    }
  });
  $("add-form").addEventListener("click", () => {
    const input = $("new-form-name");
    const refused = addForm(input.value.trim(), "");
    $("new-form-message").textContent = refused;
    if (!refused) {
      input.value = "";
    }
  });

  $("editor-check").addEventListener("click", () => {
    window.clearTimeout(state.checkTimer);
    runCheck().then(() => $("problems-heading").focus());
  });
  $("editor-save").addEventListener("click", save);
  $("editor-download").addEventListener("click", () => {
    modeler.saveXML({ format: true }).then((saved) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([saved.xml], { type: "application/xml" }));
      link.download = root.dataset.processKey + ".bpmn";
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    });
  });
  $("editor-upload").addEventListener("change", (event) => {
    const file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (!file) {
      return;
    }
    if (file.size > MAX_DIAGRAM_BYTES) {
      tell(say(words.uploadTooLarge, { size: (file.size / 1024 / 1024).toFixed(1) }));
      return;
    }
    file.text().then((xml) =>
      modeler
        .importXML(xml)
        .then(() => {
          showStart();
          tell(say(words.uploaded, { name: file.name }));
          fillPicker();
          state.selected = null;
          showElement();
          changed();
        })
        .catch((err) => {
          // The canvas keeps the diagram it had; the server says what is wrong with the file.
          tell(say(words.uploadNotBpmn, { name: file.name, error: err.message }));
          send(root.dataset.checkUrl, { xml: xml, forms: state.forms })
            .then((response) => response.json())
            .then((body) => showProblems(body.problems || [], []));
        })
    );
  });
  $("propose-form").addEventListener("submit", () => {
    state.dirty = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (state.dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ---- loading the version ----

  // The whole diagram when it is readable so; a long one from its start, at a readable size.
  function showStart() {
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() >= READABLE_ZOOM) {
      return;
    }
    const box = canvas.viewbox();
    canvas.viewbox({
      x: box.inner.x - PALETTE_ROOM,
      y: box.inner.y - PALETTE_ROOM / 2,
      width: box.outer.width / READABLE_ZOOM,
      height: box.outer.height / READABLE_ZOOM
    });
  }

  tell(words.loading);
  fetch(root.dataset.bundleUrl, { credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      return response.json();
    })
    .then((bundle) => {
      state.forms = Object.assign({}, bundle.forms || {});
      return modeler.importXML(bundle.xml).then(() => bundle);
    })
    .then((bundle) => {
      showStart();
      renderForms();
      fillPicker();
      showElement();
      root.classList.add("is-drawn");
      tell("");
      if (bundle.status === "draft") {
        offerProposal(root.dataset.proposeUrl, (bundle.changes || []).join("\n"), bundle.version);
      }
      return runCheck();
    })
    .catch((err) => tell(say(words.loadFailed, { error: err.message })));
})();
