package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/server"
)

// The API page (/docs) and the live view (/_stub/ui) as HTTP resources;
// web/browser.test.mjs drives them in a browser.

// get sends GET target through h.
func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "127.0.0.1:8080" // the token-less control API serves loopback names only
	h.ServeHTTP(rec, req)
	if rec.Header().Get("X-Request-Id") == "" {
		t.Errorf("GET %s: no X-Request-Id", target)
	}
	return rec
}

var pageRefs = regexp.MustCompile(`(?:src|href|value)="([^"]*)"`)

// checkPage checks that target is an HTML page loading only from the stub
// and under its CSP, and that everything it references is served.
func checkPage(t *testing.T, h http.Handler, target string) []string {
	t.Helper()
	rec := get(t, h, target)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s -> %d %s", target, rec.Code, rec.Header().Get("Content-Type"))
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET %s: Content-Security-Policy %q lacks %q", target, csp, want)
		}
	}
	var refs []string
	for _, m := range pageRefs.FindAllStringSubmatch(rec.Body.String(), -1) {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("GET %s: %q is not served by the stub", target, ref)
			continue
		}
		refs = append(refs, ref)
		if sub := get(t, h, ref); sub.Code != http.StatusOK {
			t.Errorf("GET %s references %s, which answers %d", target, ref, sub.Code)
		}
	}
	return refs
}

func TestAPIPage(t *testing.T) {
	h := ctlServer(t, server.Options{})
	refs := checkPage(t, h, "/docs")
	for _, want := range []string{
		"/docs/assets/swagger-ui/swagger-ui-bundle.js", "/docs/assets/swagger-ui/swagger-ui.css",
		"/docs/assets/docs.js", "/docs/openapi.yaml", "/docs/control.openapi.yaml", "/_stub/ui",
	} {
		if !slices.Contains(refs, want) {
			t.Errorf("/docs does not reference %s (it references %q)", want, refs)
		}
	}
	for _, tc := range []struct{ path, ctype string }{
		{"/docs/assets/swagger-ui/swagger-ui-bundle.js", "text/javascript"},
		{"/docs/assets/swagger-ui/swagger-ui.css", "text/css"},
		{"/docs/assets/swagger-ui/LICENSE", "text/plain"},
		{"/docs/assets/live.js", "text/javascript"},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s -> %d %s, want 200 %s", tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.ctype)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", tc.path)
		}
	}
}

// The documents the page shows are the project's, with the stub itself as
// the only server, so that "Try it out" never calls anything else.
func TestAPIPageDocuments(t *testing.T) {
	h := ctlServer(t, server.Options{})
	contractDoc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	controlDoc, err := controlapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want *openapi3.T
	}{
		{"/docs/openapi.yaml", contractDoc},
		{"/docs/control.openapi.yaml", controlDoc},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s -> %d", tc.path, rec.Code)
		}
		doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("GET %s: invalid document: %v", tc.path, err)
		}
		if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
			t.Errorf("GET %s: servers %v, want only /", tc.path, doc.Servers)
		}
		// Apart from servers, the document is the one the stub serves by.
		doc.Servers, tc.want.Servers = nil, nil
		got, _ := json.Marshal(doc)
		want, _ := json.Marshal(tc.want)
		if string(got) != string(want) {
			t.Errorf("GET %s differs from the embedded document beyond servers", tc.path)
		}
	}
}

func TestLiveView(t *testing.T) {
	h := ctlServer(t, server.Options{})
	checkPage(t, h, "/_stub/ui")
	res := ctlDo(t, h, http.MethodGet, "/_stub/ui", "")
	if res.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("GET /_stub/ui: Referrer-Policy %q", res.header.Get("Referrer-Policy"))
	}
	if !strings.Contains(string(res.body), `<svg id="graph"`) {
		t.Errorf("GET /_stub/ui: no graph in the page:\n%s", res.body)
	}
}

// Without the control API, the page shows the contract only and the live
// view is gone like any unknown path.
func TestAPIPageWithoutControl(t *testing.T) {
	h := ctlServer(t, server.Options{DisableControl: true})
	refs := checkPage(t, h, "/docs")
	for _, ref := range refs {
		if strings.Contains(ref, "control") || strings.HasPrefix(ref, "/_stub/") {
			t.Errorf("/docs references %s without the control API", ref)
		}
	}
	for _, path := range []string{"/_stub/ui", "/docs/control.openapi.yaml", "/docs/assets/live.js", "/docs/assets/live.css"} {
		rec := get(t, h, path)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), ctlNoSuch) {
			t.Errorf("GET %s -> %d %s, want 404 %s", path, rec.Code, rec.Body, ctlNoSuch)
		}
	}
}
