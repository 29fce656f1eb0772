package osmstub_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUserModuleDeps builds a user's module that imports client and
// osmstubtest, runs `go mod tidy` (which ignores build tags, so tools.go
// counts if anything reaches the root package) and checks that its go.mod
// names only modules those packages build from: the code generator and its
// dependencies must stay out of a user's go.mod.
func TestUserModuleDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the module proxy (go mod tidy in a scratch module)")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	goCmd := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr)
		}
		return string(out)
	}

	allowed := map[string]bool{}
	for _, m := range strings.Fields(goCmd(root, "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", "./client", "./osmstubtest")) {
		allowed[m] = true
	}
	goVersion := strings.TrimSpace(goCmd(root, "list", "-m", "-f", "{{.GoVersion}}"))

	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/user\n\ngo " + goVersion + "\n\n" +
			"require github.com/osmstub/osmstub v0.0.0\n\n" +
			"replace github.com/osmstub/osmstub => " + root + "\n",
		"main.go": "package main\n\nimport (\n" +
			"\t_ \"github.com/osmstub/osmstub/client\"\n" +
			"\t_ \"github.com/osmstub/osmstub/osmstubtest\"\n)\n\nfunc main() {}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd(dir, "mod", "tidy")

	var mod struct{ Require []struct{ Path string } }
	if err := json.Unmarshal([]byte(goCmd(dir, "mod", "edit", "-json")), &mod); err != nil {
		t.Fatal(err)
	}
	if len(mod.Require) == 0 {
		t.Fatal("the user's go.mod requires nothing after go mod tidy")
	}
	for _, r := range mod.Require {
		if r.Path == "github.com/oapi-codegen/oapi-codegen/v2" || !allowed[r.Path] {
			t.Errorf("the user's go.mod names %s, which client and osmstubtest do not build from", r.Path)
		}
	}
}
