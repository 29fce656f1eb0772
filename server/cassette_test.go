package server_test

import (
	"bytes"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/cassette"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

const proxySecurityToken = "proxy-security-token-value"

// session is what a user does through the proxy, with both credentials.
func session(t *testing.T) []*http.Request {
	t.Helper()
	return []*http.Request{
		tokenReq("demo-token", http.MethodGet, "DEMO-1", ""),
		signed(t, http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-2"]}`),
		tokenReq("demo-token", http.MethodGet, "DEMO-1", ""),
		tokenReq("demo-token", http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-1"]}`),
		signed(t, http.MethodDelete, "DEMO-1", `{"related_id":"DEMO-2"}`),
		tokenReq("demo-token", http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-3"]}`),
		tokenReq("demo-token", http.MethodGet, "DEMO-1", ""),
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func play(t *testing.T, h http.Handler, reqs []*http.Request) []answer {
	t.Helper()
	var out []answer
	for _, req := range reqs {
		status, header, body := do(t, h, req)
		out = append(out, answer{status, header, body})
	}
	return out
}

// TestRecordAndReplay records a session through the proxy, checks that
// no secret reached the cassette, replays it byte for byte, and turns it
// into fixtures a stub serves the same state from.
func TestRecordAndReplay(t *testing.T) {
	d := fixtures.Demo()
	for i := range d.Users {
		if d.Users[i].Name == "demo" {
			d.Users[i].Keys = []store.AccessKey{{AK: proxyAK, SK: proxySK, SecurityToken: proxySecurityToken}}
		}
	}
	up := newServer(t, server.Options{Fixtures: &d, Now: fixedNow})
	u, _ := upstreamServer(t, up)
	var tape bytes.Buffer
	// The session signs with the demo key and sends the demo token: the
	// upstream here is a test stub, not a real account.
	p := proxyServer(t, server.Options{Upstream: u, Record: &tape, ProxyUnsafeFixtureCredentials: true,
		UpstreamKey: &server.UpstreamKey{AK: proxyAK, SK: proxySK, SecurityToken: proxySecurityToken, DomainID: "demo-domain"}})
	recorded := play(t, p, session(t))
	for i, a := range recorded {
		if a.status != http.StatusOK {
			t.Fatalf("request %d through the proxy: %d %s", i, a.status, a.body)
		}
	}

	lines := strings.Split(strings.TrimSpace(tape.String()), "\n")
	if len(lines) != len(recorded) {
		t.Fatalf("%d cassette lines for %d exchanges", len(lines), len(recorded))
	}
	hexSignature := regexp.MustCompile(`[0-9a-f]{64}`)
	for i, line := range lines {
		for _, secret := range []string{"demo-token", demoSK, proxySK, proxySecurityToken} {
			if strings.Contains(line, secret) {
				t.Errorf("line %d holds a secret (%.6s...): %s", i+1, secret, line)
			}
		}
		if hexSignature.MatchString(line) {
			t.Errorf("line %d holds a signature: %s", i+1, line)
		}
		if strings.Contains(line, "Authorization") && !strings.Contains(line, "Signature=REDACTED") {
			t.Errorf("line %d: Authorization not redacted: %s", i+1, line)
		}
	}

	xs, err := cassette.Read(&tape)
	if err != nil {
		t.Fatal(err)
	}
	r := proxyServer(t, server.Options{Replay: cassette.NewPlayer(xs, cassette.DefaultMatch)})
	replayed := play(t, r, session(t))
	for i := range recorded {
		if !reflect.DeepEqual(recorded[i], replayed[i]) {
			t.Errorf("exchange %d:\nrecorded %d %v %s\nreplayed %d %v %s", i, recorded[i].status, recorded[i].header, recorded[i].body,
				replayed[i].status, replayed[i].header, replayed[i].body)
		}
	}

	status, _, body := do(t, r, tokenReq("demo-token", http.MethodGet, "DEMO-9", ""))
	code, msg := decodeError(t, body)
	if status != http.StatusBadGateway || code != codeBackend || !strings.Contains(msg, "closest is line 1, GET /v2/servicerequest/cases/DEMO-1/relations (differs in path)") {
		t.Errorf("unmatched replay: %d %s %q", status, code, msg)
	}

	// The session as fixtures: a stub started from them lists what the
	// live service listed last.
	ds, err := cassette.Fixtures(xs)
	if err != nil {
		t.Fatal(err)
	}
	offline := newServer(t, server.Options{Fixtures: &ds, Now: fixedNow})
	if got := ids(list(t, offline, cassette.CallerToken, "DEMO-1")); !slices.Equal(got, []string{"DEMO-3"}) {
		t.Errorf("offline DEMO-1 relations = %v, want [DEMO-3]", got)
	}
	if got := recorded[len(recorded)-1].body; !bytes.Contains(got, []byte(`"user_name":"demo"`)) {
		t.Fatalf("the last list: %s", got)
	}
	if ts := ticketByID(ds, "DEMO-3"); ts.Owner != "demo" || ts.Description != "Elastic IP unbound after resize" {
		t.Errorf("DEMO-3 from the cassette = %+v", ts)
	}
}

func ticketByID(d store.Dataset, id string) store.Ticket {
	for _, t := range d.Tickets {
		if t.ID == id {
			return t
		}
	}
	return store.Ticket{}
}
