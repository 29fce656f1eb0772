// The API page (/docs): Swagger UI on the document chosen in the header.
// The documents are served by the stub with their servers pointing at the
// stub itself, so "Try it out" only ever calls this stub.
'use strict';

(function () {
  const select = document.getElementById('spec');

  function show(url) {
    window.ui = SwaggerUIBundle({
      url: url,
      dom_id: '#swagger-ui',
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
      deepLinking: true,
      displayOperationId: true,
      displayRequestDuration: true,
      defaultModelsExpandDepth: 0,
      persistAuthorization: false, // credentials stay in the page, not in localStorage
      queryConfigEnabled: false, // ?url=... cannot point the page at another document
      validatorUrl: null, // no call to an online validator
    });
  }

  const hint = document.getElementById('hint'); // about the contract's demo token

  select.addEventListener('change', function () {
    hint.hidden = select.selectedIndex !== 0;
    show(select.value);
  });
  show(select.value);
})();
