// A form's dates and times are read in the time zone its hidden `_time_zone` field names:
// the browser's own zone, when the browser tells it; without script, the system's.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (err) {
    return;
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll('input[name="_time_zone"]').forEach(function (input) {
    input.value = zone;
  });
  document.querySelectorAll("[data-time-zone-name]").forEach(function (name) {
    name.textContent = zone;
  });
})();
