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
