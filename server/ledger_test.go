package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/apierror"
)

// statusOf is the HTTP status each error code is sent with; a code sent
// with two statuses is listed once per status.
var statusOf = map[string][]int{
	CodeInvalid:        {400, 415},
	CodeInternal:       {500},
	CodeParam:          {200},
	CodeNoPermission:   {200},
	CodePressTooSoon:   {200},
	CodeUploadBudget:   {200},
	CodeUnknownAction:  {200},
	CodeUnknownTicket:  {200},
	CodeLimit:          {200},
	CodeSelf:           {200},
	CodeNoSuchAPI:      {404},
	CodeTooLarge:       {408, 413, 502, 504}, // CodeRequestTimeout: 408; CodeBackend: 502, 504
	CodeUnavailable:    {503},
	CodeIAMUnavailable: {503},
	CodeUnauthorized:   {401},
	CodeForbidden:      {403},
	CodeThrottled:      {429},
}

// TestLedgerCodes keeps the fidelity ledger's Codes table equal to the
// codes the server declares: every Code constant of errors.go (read from
// the source, so a new one cannot be forgotten here) is a row, with the
// status it is sent with, and the table has no other row.
func TestLedgerCodes(t *testing.T) {
	var want []string
	for _, code := range declaredCodes(t) {
		statuses, ok := statusOf[code]
		if !ok {
			t.Errorf("errors.go declares %s, which statusOf does not list", code)
		}
		for _, s := range statuses {
			want = append(want, strconv.Itoa(s)+" "+code)
		}
	}
	ledger, err := os.ReadFile("../docs/fidelity.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(ledger), "\n## Codes\n")
	if !ok {
		t.Fatal("docs/fidelity.md has no ## Codes section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	var got []string
	for _, m := range regexp.MustCompile("(?m)^\\| (\\d{3}) \\| `([A-Z]+\\.[0-9]+)` \\|").FindAllStringSubmatch(table, -1) {
		got = append(got, m[1]+" "+m[2])
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("docs/fidelity.md Codes table:\n%q\nthe server:\n%q", got, want)
	}
}

// declaredCodes returns the values of the constants named Code* in
// errors.go.
func declaredCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Code") || len(vs.Values) != 1 {
			return true
		}
		switch v := vs.Values[0].(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(v.Value)
			codes = append(codes, s)
		case *ast.SelectorExpr: // CodeInvalid, shared with the control API
			if v.Sel.Name == "CodeInvalid" {
				codes = append(codes, apierror.CodeInvalid)
			}
		}
		return true
	})
	if len(codes) < 10 {
		t.Fatalf("found %d Code constants in errors.go", len(codes))
	}
	return codes
}
