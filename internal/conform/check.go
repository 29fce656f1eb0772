package conform

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/osmstub/osmstub/internal/violation"
)

// Verdict is the outcome of one check.
type Verdict string

// Verdicts, from best to worst.
const (
	// Pass: the answer keeps the contract and the stub answers the same.
	Pass Verdict = "pass"
	// Skipped: the check could not run; Check.Reason says why.
	Skipped Verdict = "skipped"
	// Differs: the answer keeps the contract but the stub answers otherwise
	// (status, error_code, the shape of a success, or a new field).
	Differs Verdict = "differs"
	// Violates: the answer breaks openapi.yaml.
	Violates Verdict = "violates"
	// Failed: no answer at all (a network error, a timeout).
	Failed Verdict = "failed"
)

// Check is one request of the scenario and what became of it.
type Check struct {
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	Request string  `json:"request,omitempty"`
	// Problems lists each contract violation ("contract: ..."), each new
	// field and each difference from the stub, one a line.
	Problems []string `json:"problems,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	// OptIn marks a skipped check that runs only when asked for
	// (Config.AllowCreate): its skip never fails the run.
	OptIn bool      `json:"opt_in,omitempty"`
	Got   *Response `json:"got,omitempty"`
	Stub  *Response `json:"stub,omitempty"`
}

// compareRule says how much of a success compare holds against the stub's
// answer; status and error_code are always compared.
type compareRule int

const (
	// sameShape: the shape of the body and the tickets a list names.
	sameShape compareRule = iota
	// sameEnvelope: the top-level keys only (success or refusal), for
	// answers whose contents belong to the live account or region (its
	// catalogue, its other tickets, their messages), which the reference
	// stub cannot know; the contract still checks every field.
	sameEnvelope
	// sameStatus: the shape and the ticket's status, for a ticket whose
	// history both sides share (the one the run opened).
	sameStatus
	// sameTickets: the envelope and the tickets a ListCases page names,
	// for a list by incident_id.
	sameTickets
)

// judge validates got against the contract and compares it with the
// stub's answer to the same request. A property the contract does not
// list (violation.NewField) is a difference, not a broken rule: JSON
// Schema allows it, and the stub sends none.
func judge(name string, c call, got, stub Response) Check {
	return judgeAs(name, c, got, stub, nil)
}

// judgeAs is judge for a stub that names some tickets otherwise: alias
// maps the stub's ID of a ticket the run opened to the endpoint's.
func judgeAs(name string, c call, got, stub Response, alias map[string]string) Check {
	ck := Check{Name: name, Request: c.describe(), Got: &got, Stub: &stub, Verdict: Pass}
	for _, v := range validate(c, got) {
		if v.Rule == violation.NewField {
			ck.Problems = append(ck.Problems, v.String())
			continue
		}
		ck.Problems = append(ck.Problems, "contract: "+v.String())
		ck.Verdict = Violates
	}
	ck.Problems = append(ck.Problems, compare(got, stub, c.rule, alias)...)
	if ck.Verdict == Pass && len(ck.Problems) > 0 {
		ck.Verdict = Differs
	}
	return ck
}

// validate checks an answer against openapi.yaml with the checker the
// stub's own tests, its proxy and -validate-responses use.
func validate(c call, got Response) []violation.Violation {
	req, err := http.NewRequest(c.method, "http://endpoint"+c.path(), nil)
	if err != nil {
		return []violation.Violation{{Direction: violation.Request, Rule: err.Error()}}
	}
	return violation.CheckResponse(req, got.Status, got.header, got.raw)
}

// compare lists how got differs from the stub's answer: status and
// error_code always, and for a success what rule says: the shape of the
// body and, for a list, the tickets it names.
func compare(got, stub Response, rule compareRule, alias map[string]string) []string {
	var out []string
	if got.Status != stub.Status {
		out = append(out, fmt.Sprintf("status %d, the stub answers %d", got.Status, stub.Status))
	}
	if got.Code != stub.Code {
		out = append(out, fmt.Sprintf("error_code %q, the stub answers %q", got.Code, stub.Code))
	}
	if len(out) > 0 || !got.succeeded() {
		return out
	}
	switch rule {
	case sameEnvelope, sameTickets:
		if g, s := envelope(got.raw), envelope(stub.raw); g != s {
			out = append(out, fmt.Sprintf("body fields %s, the stub's are %s", g, s))
		}
		if rule == sameEnvelope {
			return out
		}
	default:
		if g, s := shape(got.raw), shape(stub.raw); g != s {
			out = append(out, fmt.Sprintf("body shape %s, the stub's is %s", g, s))
		}
	}
	if g, s := sortedIDs(got.relatedIDs(), nil), sortedIDs(stub.relatedIDs(), nil); !slices.Equal(g, s) {
		out = append(out, fmt.Sprintf("associated tickets %v, the stub has %v", g, s))
	}
	if g, s := sortedIDs(got.listedTickets(), nil), sortedIDs(stub.listedTickets(), alias); !slices.Equal(g, s) {
		out = append(out, fmt.Sprintf("listed tickets %v, the stub lists %v", g, s))
	}
	if rule == sameStatus {
		if g, s := fieldOr(got, "status"), fieldOr(stub, "status"); g != s {
			out = append(out, fmt.Sprintf("ticket status %s, the stub's is %s", g, s))
		}
	}
	return out
}

func fieldOr(r Response, key string) string {
	v, ok := r.field(key)
	if !ok {
		return "(none)"
	}
	return v
}

// sortedIDs returns ids, each through alias when it is there, sorted.
func sortedIDs(ids []string, alias map[string]string) []string {
	for i, id := range ids {
		if a, ok := alias[id]; ok {
			ids[i] = a
		}
	}
	slices.Sort(ids)
	return ids
}

// envelope renders the top-level keys of a JSON object, sorted, or what
// shape says of anything else.
func envelope(raw []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return shape(raw)
	}
	return "{" + strings.Join(slices.Sorted(maps.Keys(m)), ",") + "}"
}

// shape renders a JSON body as its structure without its values: object
// keys sorted, each array as the distinct shapes of its elements, leaves
// as their JSON types. An empty body is "(empty)".
func shape(raw []byte) string {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return "(empty)"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "(not JSON)"
	}
	return shapeOf(v)
}

func shapeOf(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shapeOf(v[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		var elems []string
		for _, e := range v {
			if s := shapeOf(e); !slices.Contains(elems, s) {
				elems = append(elems, s)
			}
		}
		return "[" + strings.Join(elems, "|") + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "?"
}
