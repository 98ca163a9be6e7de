/* A step's properties in the diagram, read and written through bpmn-js's moddle: its
   documentation and its spiffworkflow:property entries (role, form, ...) inside
   bpmn:extensionElements. Writing goes through `modeling`, so it can be undone. */
(function () {
  "use strict";

  window.IisgStepProperties = function (modeler) {
    const modeling = modeler.get("modeling");
    const moddle = modeler.get("moddle");

    function is(bo, type) {
      return bo && typeof bo.$instanceOf === "function" && bo.$instanceOf(type);
    }

    function propertiesOf(bo) {
      const ext = bo.extensionElements;
      const values = (ext && ext.get("values")) || [];
      return values.find((value) => is(value, "spiffworkflow:Properties")) || null;
    }

    function propertyOf(bo, name) {
      const container = propertiesOf(bo);
      const found = container && container.get("properties").find((p) => p.name === name);
      return (found && found.value) || "";
    }

    function setProperty(element, name, value) {
      const bo = element.businessObject;
      let ext = bo.extensionElements;
      if (!ext) {
        if (!value) {
          return;
        }
        ext = moddle.create("bpmn:ExtensionElements", { values: [] });
        modeling.updateProperties(element, { extensionElements: ext });
      }
      let container = propertiesOf(bo);
      if (!container) {
        if (!value) {
          return;
        }
        container = moddle.create("spiffworkflow:Properties", { properties: [] });
        modeling.updateModdleProperties(element, ext, {
          values: ext.get("values").concat([container])
        });
      }
      const list = container.get("properties");
      const existing = list.find((p) => p.name === name);
      if (existing && value) {
        modeling.updateModdleProperties(element, existing, { value: value });
      } else if (existing) {
        modeling.updateModdleProperties(element, container, {
          properties: list.filter((p) => p !== existing)
        });
      } else if (value) {
        const property = moddle.create("spiffworkflow:Property", { name: name, value: value });
        modeling.updateModdleProperties(element, container, { properties: list.concat([property]) });
      }
    }

    function documentationOf(bo) {
      return (bo.documentation || []).map((d) => d.text || "").join("\n\n");
    }

    // `bo` is the element's own object unless given: the process of a pool drawn as the root.
    function setDocumentation(element, text, bo) {
      const documentation = text.trim()
        ? [moddle.create("bpmn:Documentation", { text: text })]
        : [];
      if (bo && bo !== element.businessObject) {
        modeling.updateModdleProperties(element, bo, { documentation: documentation });
      } else {
        modeling.updateProperties(element, { documentation: documentation });
      }
    }

    function kindOf(bo) {
      // "bpmn:UserTask" -> "user task"
      return bo.$type.replace(/^bpmn:/, "").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
    }

    function takesRole(bo) {
      return is(bo, "bpmn:UserTask") || is(bo, "bpmn:ManualTask");
    }

    function takesForm(bo) {
      return takesRole(bo) || is(bo, "bpmn:StartEvent");
    }

    return {
      is: is,
      propertyOf: propertyOf,
      setProperty: setProperty,
      documentationOf: documentationOf,
      setDocumentation: setDocumentation,
      kindOf: kindOf,
      takesRole: takesRole,
      takesForm: takesForm
    };
  };
})();
