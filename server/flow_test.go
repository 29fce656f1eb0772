package server_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestParamRefusalCutAtCharacters: an OSM.01010001 detail echoes what the
// caller sent and may run past the contract's 256 characters; it is cut at
// a character, never inside one.
func TestParamRefusalCutAtCharacters(t *testing.T) {
	srv := demoServer(t)
	body := `{"business_type_id":"` + strings.Repeat("é", 500) + `","simple_description":"d","source_id":""}`
	status, _, got := do(t, srv, newReq("POST", "/v2/servicerequest/cases", body, "X-Auth-Token", "demo-token", "Content-Type", "application/json"))
	code, msg := decodeError(t, got)
	if status != http.StatusOK || code != "OSM.01010001" {
		t.Fatalf("%d %s", status, got)
	}
	if !utf8.ValidString(msg) || utf8.RuneCountInString(msg) != 256 || !strings.HasSuffix(msg, "é...") {
		t.Errorf("error_msg of %d characters (valid UTF-8: %v): %q", utf8.RuneCountInString(msg), utf8.ValidString(msg), msg)
	}
}

// TestFlowHandlerRefusals: the checks the handlers make before the rules,
// on values the contract's schema lets through, each 200 OSM.01010001
// naming the field and the rule.
func TestFlowHandlerRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, method, target, body, msg string
	}{
		{"incident_status not a list of numbers", "GET", "/v2/servicerequest/cases?incident_status=1,open", "",
			`Param validation failed. incident_status: a comma-separated list of statuses, not "1,open"`},
		{"a start time that is no date", "GET", "/v2/servicerequest/cases?query_start_time=2026-13-01T00:00:00Z", "",
			"Param validation failed. query_start_time: a time such as 2006-01-02T15:04:05Z"},
		{"an end time that is no date", "GET", "/v2/servicerequest/cases?query_end_time=2026-02-30T00:00:00Z", "",
			"Param validation failed. query_end_time: a time such as 2006-01-02T15:04:05Z"},
		{"accessory_data not Base64", "POST", "/v2/servicerequest/accessorys/json-format-content",
			`{"accessory_name":"a.log","accessory_from":"message","accessory_data":"not base64!"}`,
			"Param validation failed. accessory_data: must be Base64 (RFC 4648, standard alphabet, padded)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := demoServer(t)
			before := snapshot(t, srv.Store())
			headers := []string{"X-Auth-Token", "demo-token"}
			if tc.body != "" {
				headers = append(headers, "Content-Type", "application/json")
			}
			status, _, got := do(t, srv, newReq(tc.method, tc.target, tc.body, headers...))
			code, msg := decodeError(t, got)
			if status != http.StatusOK || code != "OSM.01010001" || msg != tc.msg {
				t.Errorf("%d %s %q; want 200 OSM.01010001 %q", status, code, msg, tc.msg)
			}
			checkUnchanged(t, before, snapshot(t, srv.Store()))
		})
	}
}
