package server

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/osmstub/osmstub"
)

// The API page and the live view. GET /docs is an interactive reference of
// the contract (and of the control API, when it is mounted) drawn by
// Swagger UI, whose files `make web-assets` copies from the pinned npm
// package into webui/swagger-ui; GET /_stub/ui (a control operation,
// control.go) draws the state as a graph. Every byte the pages load is
// embedded here: a Content-Security-Policy of 'self' keeps a browser from
// fetching anything elsewhere.
//
// /docs is public documentation: it holds no secret and grants nothing.
// Its "Try it out" calls are ordinary requests to the API, validated and
// authenticated like any other.

//go:embed webui
var webUI embed.FS

const (
	docsPath   = "/docs"
	assetsPath = "/docs/assets/"
	// pageCSP lets the pages load only what the stub serves. Swagger UI
	// sets inline styles and draws icons from data: URIs.
	pageCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// docsSpec is one document the API page offers.
type docsSpec struct {
	name string
	url  string
	body func() ([]byte, error) // served at url: the document with servers pointing at the stub
}

// The documents the API page serves, rewritten on first use and then kept
// for the process: rewriting both (a YAML parse and encode) took about
// 12 ms, the whole of a server's start (BENCHMARKS.md).
var (
	contractDoc = sync.OnceValues(func() ([]byte, error) { return withStubServer(osmstub.OpenAPI) })
	controlDoc  = sync.OnceValues(func() ([]byte, error) { return withStubServer(controlOpenAPI) })
)

// webPages serves /docs and its assets; the live view's HTML is served by
// the control API (control.GetLiveView) but its script and style are assets here.
type webPages struct {
	assets fs.FS
	docs   []byte // the rendered API page
	specs  []docsSpec
	live   bool // the control API, and so the live view, is mounted
}

// newWebPages returns the pages for a stub with or without the control
// API; the documents they serve are rewritten once per process, on first
// use.
func newWebPages(control bool) (*webPages, error) {
	assets, err := fs.Sub(webUI, "webui")
	if err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	w := &webPages{assets: assets, live: control}
	w.specs = []docsSpec{{"OSM ticket associations (the contract)", docsPath + "/openapi.yaml", contractDoc}}
	if control {
		w.specs = append(w.specs, docsSpec{"osm-stub control API", docsPath + "/control.openapi.yaml", controlDoc})
	}
	if w.docs, err = w.renderDocs(); err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	return w, nil
}

// renderDocs fills docs.html's two placeholders: the documents to pick
// from and the link to the live view. (Not html/template: the reflection
// of text/template makes the linker keep every exported method of the
// binary: 5 MB more.)
func (w *webPages) renderDocs() ([]byte, error) {
	page, err := fs.ReadFile(w.assets, "docs.html")
	if err != nil {
		return nil, err
	}
	var options strings.Builder
	for _, s := range w.specs {
		fmt.Fprintf(&options, "\n      <option value=\"%s\">%s</option>", html.EscapeString(s.url), html.EscapeString(s.name))
	}
	live := ""
	if w.live {
		live = `<a href="/_stub/ui">Live view</a>`
	}
	out := strings.NewReplacer("{{options}}", options.String(), "{{live}}", live).Replace(string(page))
	if strings.Contains(out, "{{") {
		return nil, fmt.Errorf("docs.html: a placeholder is left")
	}
	return []byte(out), nil
}

// withStubServer returns the OpenAPI document doc with its servers replaced
// by the stub itself ("/", which Swagger UI resolves against the page), so
// that "Try it out" calls the stub and never a real service.
func withStubServer(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a YAML mapping")
	}
	var servers yaml.Node
	type server struct {
		URL         string `yaml:"url"`
		Description string `yaml:"description"`
	}
	if err := servers.Encode([]server{{URL: "/", Description: "This stub (the page's own address)."}}); err != nil {
		return nil, err
	}
	m := root.Content[0]
	replaced := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "servers" {
			m.Content[i+1], replaced = &servers, true
		}
	}
	if !replaced {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "servers"}, &servers)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

func (w *webPages) mount(e *echo.Echo) {
	e.GET(docsPath, func(c echo.Context) error {
		pageHeaders(c.Response().Header())
		return c.HTMLBlob(http.StatusOK, w.docs)
	})
	for _, s := range w.specs {
		e.GET(s.url, func(c echo.Context) error {
			body, err := s.body()
			if err != nil {
				return fmt.Errorf("web pages: %s: %w", s.url, err)
			}
			return c.Blob(http.StatusOK, "application/yaml", body)
		})
	}
	e.GET(assetsPath+"*", w.asset)
}

// asset serves a file of webui/ other than a page template. The live
// view's files are left out with the control API.
func (w *webPages) asset(c echo.Context) error {
	name := c.Param("*")
	if !fs.ValidPath(name) || strings.HasSuffix(name, ".html") || (!w.live && strings.HasPrefix(name, "live.")) {
		return echo.ErrNotFound
	}
	data, err := fs.ReadFile(w.assets, name)
	if err != nil {
		return echo.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" || path.Ext(name) == ".txt" {
		ctype = "text/plain; charset=utf-8" // LICENSE, NOTICE, VERSION
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, ctype, data)
}

// pageHeaders are the headers of an HTML page: nothing from elsewhere, no
// framing, no referrer.
func pageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

func withPageHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		pageHeaders(c.Response().Header())
		return next(c)
	}
}
