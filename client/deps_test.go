package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// clientDeps are the only non-standard packages a program that imports
// package client may link: the client, its signer, the generated client and
// models (gen/osmclient) and oapi-codegen's small runtime. The server's
// dependencies (Echo, kin-openapi, the generator, the stores' drivers) and the
// server's own code must never appear, or every user of the client pays for
// them in build time and binary size.
var clientDeps = map[string]bool{
	"github.com/osmstub/osmstub/client":                  true,
	"github.com/osmstub/osmstub/aksk":                    true,
	"github.com/osmstub/osmstub/gen/osmclient":           true,
	"github.com/oapi-codegen/runtime":                    true,
	"github.com/oapi-codegen/runtime/types":              true,
	"github.com/oapi-codegen/runtime/internal/jsoncodec": true,
	"github.com/google/uuid":                             true,
	"github.com/apapsch/go-jsonmerge/v2":                 true,
}

func TestClientImportsOnlyWhatItNeeds(t *testing.T) {
	// go test puts its own toolchain first on PATH, so "go" is the Go
	// that is testing us.
	out, err := exec.Command("go", "list", "-deps",
		"-f", `{{if not .Standard}}{{.ImportPath}} {{join .Imports ","}}{{end}}`, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	importers := map[string][]string{} // package -> the packages that import it
	var deps []string
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		if pkg == "" {
			continue
		}
		deps = append(deps, pkg)
		for imp := range strings.SplitSeq(imports, ",") {
			importers[imp] = append(importers[imp], pkg)
		}
	}
	if len(deps) == 0 {
		t.Fatalf("go list -deps listed nothing:\n%s", out)
	}
	for _, pkg := range deps {
		if !clientDeps[pkg] {
			t.Errorf("package client links %s (imported by %s): the client must stay free of server code and its dependencies",
				pkg, strings.Join(importers[pkg], ", "))
		}
	}
	for _, forbidden := range []string{"github.com/labstack/echo/v4", "github.com/getkin/kin-openapi/openapi3", "github.com/osmstub/osmstub/gen"} {
		if _, ok := importers[forbidden]; ok {
			t.Errorf("package client links %s", forbidden)
		}
	}
}
