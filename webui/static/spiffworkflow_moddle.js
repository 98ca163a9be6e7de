/* The spiffworkflow extension elements the methodology's diagrams use, described for
   bpmn-js's moddle so the editor keeps them on export and can read and write them:
   task properties (role, form, organisation, ...), service task operators with their
   parameters, instructions for the end user, and pre- and post-scripts. */
(function () {
  "use strict";

  function bodyType(name) {
    return {
      name: name,
      superClass: ["Element"],
      properties: [{ name: "value", type: "String", isBody: true }]
    };
  }

  window.IisgSpiffworkflowModdle = {
    name: "SpiffWorkflow",
    prefix: "spiffworkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    // <spiffworkflow:properties> is the type Properties, and so on.
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      {
        name: "Properties",
        superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }]
      },
      {
        name: "Property",
        superClass: ["Element"],
        properties: [
          { name: "name", type: "String", isAttr: true },
          { name: "value", type: "String", isAttr: true }
        ]
      },
      {
        name: "ServiceTaskOperator",
        superClass: ["Element"],
        properties: [
          { name: "id", type: "String", isAttr: true },
          { name: "resultVariable", type: "String", isAttr: true },
          { name: "parameters", type: "Parameters" }
        ]
      },
      {
        name: "Parameters",
        superClass: ["Element"],
        properties: [{ name: "parameters", type: "Parameter", isMany: true }]
      },
      {
        name: "Parameter",
        superClass: ["Element"],
        properties: [
          { name: "id", type: "String", isAttr: true },
          { name: "type", type: "String", isAttr: true },
          { name: "value", type: "String", isAttr: true }
        ]
      },
      bodyType("InstructionsForEndUser"),
      bodyType("PreScript"),
      bodyType("PostScript")
    ]
  };
})();
