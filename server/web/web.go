// Package web serves the stub's web pages, every byte they load embedded
// here (a Content-Security-Policy of 'self' keeps a browser from fetching
// anything elsewhere): the API page, the contract (and the control API,
// when it is mounted) drawn by Swagger UI, whose files `make web-assets`
// copies into swagger-ui/; and LiveView, which the control API serves at
// GET /_stub/ui behind Headers.
//
// A request passes the server's middleware like any other (it is no
// contract operation: nothing validates or authenticates it), then a route
// of Mount: GET /docs, the page New rendered; GET /docs/openapi.yaml and
// /docs/control.openapi.yaml, a document whose only server is the stub,
// rewritten on first request; GET /docs/assets/*, a file here other than
// a page. A miss is echo.ErrNotFound, for the server's error handler.
//
// /docs is public documentation: it holds no secret and grants nothing;
// its "Try it out" calls are ordinary requests to the API.
package web

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

	"github.com/osmstub/osmstub/gen"
)

//go:embed *.html *.js *.css swagger-ui
var files embed.FS

// LiveView is the live view's page; its script and style are assets here.
var LiveView, _ = files.ReadFile("live.html")

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
	name, url string
	body      func() ([]byte, error) // served at url: the document with servers pointing at the stub
}

// Pages serves /docs and its assets.
type Pages struct {
	docs  []byte // the rendered API page
	specs []docsSpec
	live  bool // the control API, and so the live view, is mounted
}

// New returns the pages for a stub whose control API is described by
// control, or has none when control is nil. The documents are rewritten
// on first request, not here: rewriting both (a YAML parse and encode)
// would be most of a server's start (BENCHMARKS.md).
func New(control []byte) (*Pages, error) {
	p := &Pages{live: control != nil}
	spec := func(name, url string, doc []byte) docsSpec {
		return docsSpec{name, docsPath + url, sync.OnceValues(func() ([]byte, error) { return withStubServer(doc) })}
	}
	p.specs = []docsSpec{spec("OSM service tickets (the contract)", "/openapi.yaml", gen.OpenAPI)}
	if p.live {
		p.specs = append(p.specs, spec("osm-stub control API", "/control.openapi.yaml", control))
	}
	var err error
	if p.docs, err = p.renderDocs(); err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	return p, nil
}

// renderDocs fills docs.html's two placeholders: the documents to pick
// from and the link to the live view. (Not html/template: the reflection
// of text/template makes the linker keep every exported method of the
// binary: 5 MB more.)
func (p *Pages) renderDocs() ([]byte, error) {
	page, err := files.ReadFile("docs.html")
	if err != nil {
		return nil, err
	}
	var options strings.Builder
	for _, s := range p.specs {
		fmt.Fprintf(&options, "\n      <option value=\"%s\">%s</option>", html.EscapeString(s.url), html.EscapeString(s.name))
	}
	live := ""
	if p.live {
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

// Mount adds the pages' routes to e.
func (p *Pages) Mount(e *echo.Echo) {
	e.GET(docsPath, func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, p.docs) }, Headers)
	for _, s := range p.specs {
		e.GET(s.url, func(c echo.Context) error {
			body, err := s.body()
			if err != nil {
				return fmt.Errorf("web pages: %s: %w", s.url, err)
			}
			return c.Blob(http.StatusOK, "application/yaml", body)
		})
	}
	e.GET(assetsPath+"*", p.asset)
}

// asset serves a file of this directory other than a page. The live
// view's files are left out with the control API.
func (p *Pages) asset(c echo.Context) error {
	name := c.Param("*")
	if !fs.ValidPath(name) || strings.HasSuffix(name, ".html") || (!p.live && strings.HasPrefix(name, "live.")) {
		return echo.ErrNotFound
	}
	data, err := files.ReadFile(name)
	if err != nil {
		return echo.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" || path.Ext(name) == ".txt" {
		ctype = "text/plain; charset=utf-8" // LICENSE, NOTICE, VERSION
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, ctype, data)
}

// Headers sets the headers of an HTML page: nothing from elsewhere, no
// framing, no referrer.
func Headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		return next(c)
	}
}
