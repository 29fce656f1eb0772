package conform_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/conform"
)

func sample() *conform.Report {
	got := &conform.Response{Status: 405, Code: "APIGW.0101", Message: "no", RequestID: "r1", Body: `{"error_code":"APIGW.0101","error_msg":"no"}`}
	stub := &conform.Response{Status: 404, Code: "APIGW.0101", Message: "no", RequestID: "r2", Body: `{"error_code":"APIGW.0101","error_msg":"no"}`}
	return &conform.Report{
		Endpoint: "http://127.0.0.1:1",
		Cases:    []string{"A", "B"},
		Checks: []conform.Check{
			{Name: "create A-B", Verdict: conform.Pass, Request: "POST /x", Got: stub, Stub: stub},
			{Name: "unknown method PUT", Verdict: conform.Differs, Request: "PUT /v2/servicerequest/cases/A/relations", Problems: []string{"status 405, the stub answers 404"}, Got: got, Stub: stub},
			{Name: "wrong | credential", Verdict: conform.Violates, Request: "GET /x", Problems: []string{"contract: response has no X-Request-Id"}, Got: &conform.Response{Status: 401, Body: "{}"}, Stub: stub},
			{Name: "limit", Verdict: conform.Skipped, Reason: "needs four tickets"},
			{Name: "list A", Verdict: conform.Failed, Request: "GET /y", Problems: []string{"no answer: timeout"}},
		},
		Cleanup:  []string{"removed A-B", "A: as at the start ([])"},
		Restored: true,
	}
}

func TestTextReport(t *testing.T) {
	var sb strings.Builder
	if err := sample().Write(&sb, "text"); err != nil {
		t.Fatal(err)
	}
	want := `conformance run against http://127.0.0.1:1 with tickets A, B
PASS     create A-B
DIFFERS  unknown method PUT
         request: PUT /v2/servicerequest/cases/A/relations
         - status 405, the stub answers 404
         got:  405 X-Request-Id r1 {"error_code":"APIGW.0101","error_msg":"no"}
         stub: 404 X-Request-Id r2 {"error_code":"APIGW.0101","error_msg":"no"}
VIOLATES wrong | credential
         request: GET /x
         - contract: response has no X-Request-Id
         got:  401 (no X-Request-Id) {}
         stub: 404 X-Request-Id r2 {"error_code":"APIGW.0101","error_msg":"no"}
SKIPPED  limit
         needs four tickets
FAILED   list A
         request: GET /y
         - no answer: timeout
cleanup:
  removed A-B
  A: as at the start ([])
5 checks: 1 pass, 1 differ, 1 violate the contract, 1 failed, 1 skipped (a skipped check fails the run unless -allow-skip); every ticket is as it was
`
	if sb.String() != want {
		t.Errorf("text report:\n%s\nwant:\n%s", sb.String(), want)
	}
}

func TestMarkdownReport(t *testing.T) {
	var sb strings.Builder
	if err := sample().Write(&sb, "markdown"); err != nil {
		t.Fatal(err)
	}
	md := sb.String()
	for _, want := range []string{
		"# Conformance run against http://127.0.0.1:1\n\nTickets: `A, B`. 5 checks: 1 pass,",
		"| # | check | verdict |\n|---|---|---|\n| 1 | create A-B | pass |\n| 2 | unknown method PUT | differs |\n| 3 | wrong \\| credential | violates |\n| 4 | limit | skipped |\n| 5 | list A | failed |\n",
		"\n## 2. unknown method PUT: differs\n\nRequest: `PUT /v2/servicerequest/cases/A/relations`\n\n- status 405, the stub answers 404\n\nThe endpoint answered:\n\n```\n405 X-Request-Id r1 {",
		"\n## 3. wrong | credential: violates\n",
		"\n## 4. limit: skipped\n\nneeds four tickets\n",
		"\n## Cleanup\n\n- removed A-B\n- A: as at the start ([])\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "## 1.") {
		t.Error("a passing check has a section")
	}
}

func TestJSONReport(t *testing.T) {
	var sb strings.Builder
	if err := sample().Write(&sb, "json"); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Endpoint string `json:"endpoint"`
		Checks   []struct {
			Name     string   `json:"name"`
			Verdict  string   `json:"verdict"`
			Problems []string `json:"problems"`
			Reason   string   `json:"reason"`
			Got      *struct {
				Status    int    `json:"status"`
				Code      string `json:"error_code"`
				RequestID string `json:"request_id"`
				Body      string `json:"body"`
			} `json:"got"`
		} `json:"checks"`
		Cleanup  []string `json:"cleanup"`
		Restored bool     `json:"restored"`
	}
	if err := json.Unmarshal([]byte(sb.String()), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Checks) != 5 || back.Checks[1].Verdict != "differs" || back.Checks[1].Got.Status != 405 ||
		back.Checks[1].Got.Code != "APIGW.0101" || back.Checks[3].Reason != "needs four tickets" || back.Checks[3].Got != nil ||
		!back.Restored || len(back.Cleanup) != 2 {
		t.Errorf("JSON report:\n%s", sb.String())
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := sample().Write(&strings.Builder{}, "yaml"); err == nil || !strings.Contains(err.Error(), "text, json, markdown") {
		t.Errorf("err = %v", err)
	}
}

// No report, in any format, carries the credential.
func TestReportsCarryNoSecret(t *testing.T) {
	_, url := upstream(t, nil, nil)
	for _, cred := range []conform.Credential{
		{Token: "demo-token"},
		{AK: "DEMOAK0000000000000001", SK: "demo-secret-key"},
	} {
		rep, err := conform.Run(context.Background(), conform.Config{Endpoint: url, Credential: cred, Cases: []string{"DEMO-1", "DEMO-2"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range conform.Formats {
			var sb strings.Builder
			if err := rep.Write(&sb, f); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"demo-token", "demo-secret-key", "Signature="} {
				if strings.Contains(sb.String(), secret) {
					t.Errorf("%s report contains %q", f, secret)
				}
			}
		}
	}
}

// An opt-in check that was skipped (no -allow-create) never fails a run;
// any other skipped check does, unless AllowSkip.
func TestOptInSkips(t *testing.T) {
	optIn := conform.Check{Name: "ticket flow", Verdict: conform.Skipped, Reason: "opt-in", OptIn: true}
	missing := conform.Check{Name: "limit", Verdict: conform.Skipped, Reason: "needs five tickets"}
	pass := conform.Check{Name: "create A-B", Verdict: conform.Pass}
	tests := []struct {
		name      string
		checks    []conform.Check
		allowSkip bool
		ok        bool
		summary   string
	}{
		{"opt-in only", []conform.Check{pass, optIn}, false, true, "2 checks: 1 pass, 0 differ, 0 violate the contract, 0 failed, 1 skipped (1 opt-in); every ticket is as it was"},
		{"opt-in and missing", []conform.Check{pass, optIn, missing}, false, false,
			"3 checks: 1 pass, 0 differ, 0 violate the contract, 0 failed, 2 skipped (1 opt-in) (a skipped check fails the run unless -allow-skip); every ticket is as it was"},
		{"missing, allowed", []conform.Check{pass, missing}, true, true, "2 checks: 1 pass, 0 differ, 0 violate the contract, 0 failed, 1 skipped; every ticket is as it was"},
		{"none skipped", []conform.Check{pass}, false, true, "1 checks: 1 pass, 0 differ, 0 violate the contract, 0 failed, 0 skipped; every ticket is as it was"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &conform.Report{Checks: tt.checks, Restored: true, AllowSkip: tt.allowSkip}
			if rep.OK() != tt.ok || rep.Summary() != tt.summary {
				t.Errorf("OK %v, summary %q; want %v, %q", rep.OK(), rep.Summary(), tt.ok, tt.summary)
			}
		})
	}
}
