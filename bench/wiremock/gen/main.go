// Command gen writes WireMock mappings equivalent to the stub's answers
// under the load of `make bench` (bench/bench.sh), from the contract: for
// every operation of openapi.yaml, a mapping on its method and path that
// wants an X-Auth-Token (and a JSON body where the operation takes one)
// and answers 200 with the success example of its 200 response; and, for the
// examples that a workload of bench/load.lua asks for (refusals), one
// mapping each, chosen by the case ID the workload uses. Nothing in the
// mappings is written by hand, so they follow the contract.
//
//	go run ./bench/wiremock/gen -spec openapi.yaml -out bench/out/wiremock/mappings
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// refusals: the 200 examples a workload selects, by the prefix of the
// case_id it sends (bench/load.lua: refusal posts to NOPE-<n>).
var refusals = map[string]string{"unknown-ticket": "NOPE-"}

type mapping struct {
	Priority int      `json:"priority"`
	Request  request  `json:"request"`
	Response response `json:"response"`
}

type request struct {
	Method         string             `json:"method"`
	URLPathPattern string             `json:"urlPathPattern"`
	Headers        map[string]matcher `json:"headers"`
}

type matcher struct {
	Matches  string `json:"matches,omitempty"`
	Contains string `json:"contains,omitempty"`
}

type response struct {
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers"`
	JSONBody any               `json:"jsonBody"`
}

func main() {
	spec := flag.String("spec", "openapi.yaml", "the contract")
	out := flag.String("out", "bench/out/wiremock/mappings", "directory to write the mappings into")
	flag.Parse()
	if err := run(*spec, *out); err != nil {
		log.Fatal(err)
	}
}

func run(spec, out string) error {
	doc, err := openapi3.NewLoader().LoadFromFile(spec)
	if err != nil {
		return err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return fmt.Errorf("%s: %w", spec, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	n := 0
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			ms, err := mappings(path, method, op)
			if err != nil {
				return fmt.Errorf("%s %s: %w", method, path, err)
			}
			for i, m := range ms {
				b, err := json.MarshalIndent(m, "", "  ")
				if err != nil {
					return err
				}
				name := fmt.Sprintf("%s-%d.json", op.OperationID, i)
				if err := os.WriteFile(filepath.Join(out, name), append(b, '\n'), 0o644); err != nil {
					return err
				}
				n++
			}
		}
	}
	log.Printf("wrote %d mappings to %s", n, out)
	return nil
}

var param = regexp.MustCompile(`\{([^}]+)\}`)

// mappings of one operation: its success example for any request, and
// each refusal example for the case IDs that select it.
func mappings(path, method string, op *openapi3.Operation) ([]mapping, error) {
	ok := op.Responses.Status(200)
	if ok == nil || ok.Value.Content.Get("application/json") == nil {
		return nil, fmt.Errorf("no application/json 200 response")
	}
	mt := ok.Value.Content.Get("application/json")
	names := make([]string, 0, len(mt.Examples))
	for name := range mt.Examples {
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no example for 200")
	}
	sort.Strings(names)
	// The answer to the load's successful requests: the success example
	// (one without an error_code; of several, the longest, as the load's
	// lists hold two associations and not none).
	success, size := "", -1
	for _, name := range names {
		v, ok := mt.Examples[name].Value.Value.(map[string]any)
		if b, _ := json.Marshal(v); ok && v["error_code"] == nil && len(b) > size {
			success, size = name, len(b)
		}
	}
	if success == "" {
		return nil, fmt.Errorf("no 200 example without an error_code")
	}
	base := request{Method: strings.ToUpper(method), Headers: map[string]matcher{"X-Auth-Token": {Matches: ".+"}}}
	if op.RequestBody != nil {
		base.Headers["Content-Type"] = matcher{Contains: "application/json"}
	}
	answer := func(name string) response {
		return response{Status: 200, Headers: map[string]string{"Content-Type": "application/json"}, JSONBody: mt.Examples[name].Value.Value}
	}
	def := base
	def.URLPathPattern = pathPattern(path, "")
	ms := []mapping{{Priority: 5, Request: def, Response: answer(success)}}
	for _, name := range names {
		prefix, ok := refusals[name]
		if !ok || !strings.Contains(path, "{case_id}") {
			continue
		}
		r := base
		r.URLPathPattern = pathPattern(path, prefix)
		ms = append(ms, mapping{Priority: 1, Request: r, Response: answer(name)})
	}
	return ms, nil
}

// pathPattern is the path template as a regular expression; with a case
// ID prefix, only case IDs that start with it match.
func pathPattern(path, casePrefix string) string {
	parts := param.Split(path, -1)
	names := param.FindAllStringSubmatch(path, -1)
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(regexp.QuoteMeta(p))
		if i < len(names) {
			if names[i][1] == "case_id" && casePrefix != "" {
				b.WriteString(regexp.QuoteMeta(casePrefix))
			}
			b.WriteString("[^/]+")
		}
	}
	return b.String()
}
