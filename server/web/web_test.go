package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"go.yaml.in/yaml/v3"
)

func TestWithStubServer(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
	}{
		{"regional hosts", "openapi: 3.0.3\nservers:\n  - url: https://osm.ap-southeast-1.myhuaweicloud.com\n  - url: https://osm.cn-north-4.myhuaweicloud.com\npaths: {}\n"},
		{"no servers", "openapi: 3.0.3\npaths: {}\n"},
		{"relative", "openapi: 3.0.3\nservers: [{url: /}]\npaths: {}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := withStubServer([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				OpenAPI string              `yaml:"openapi"`
				Servers []map[string]string `yaml:"servers"`
				Paths   map[string]any      `yaml:"paths"`
			}
			if err := yaml.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v in\n%s", err, out)
			}
			if len(got.Servers) != 1 || got.Servers[0]["url"] != "/" || got.OpenAPI != "3.0.3" || got.Paths == nil {
				t.Errorf("got\n%s", out)
			}
			if strings.Contains(string(out), "myhuaweicloud") {
				t.Errorf("a real host is left in\n%s", out)
			}
		})
	}
	for _, doc := range []string{"", "- a list", "{"} {
		if _, err := withStubServer([]byte(doc)); err == nil {
			t.Errorf("withStubServer(%q): no error", doc)
		}
	}
}

// The pages' routes on a bare Echo serve their files and nothing else;
// server/web_test.go checks them through a whole server.
func TestRoutes(t *testing.T) {
	p, err := New([]byte("openapi: 3.0.3\npaths: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	p.Mount(e)
	for path, want := range map[string]int{
		"/docs": 200, "/docs/control.openapi.yaml": 200, "/docs/assets/live.js": 200,
		"/docs/assets/docs.html": 404, // a template, not an asset
		"/docs/assets/live.html": 404, // served at /_stub/ui only
		"/docs/assets/nope.js":   404, "/docs/assets/swagger-ui/": 404, "/docs/": 404,
		"/docs/assets/%2e%2e/web.go": 404, "/docs/assets/../web.go": 404,
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s -> %d, want %d", path, rec.Code, want)
		}
	}
}
