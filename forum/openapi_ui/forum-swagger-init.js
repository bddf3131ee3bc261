// Starts Swagger UI on /schema. Kept in a file of its own (not inline in the page) so the
// page's Content-Security-Policy can allow scripts from this origin only.
(function () {
  "use strict";
  var script = document.currentScript;
  window.ui = SwaggerUIBundle({
    url: script.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never send the document to validator.swagger.io
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
