package cassette_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/cassette"
)

func TestBodyRoundTrip(t *testing.T) {
	for _, b := range [][]byte{nil, []byte(`{"a":"é"}`), {0xff, 0x00, 'x'}} {
		data, err := json.Marshal(cassette.Body(b))
		if err != nil {
			t.Fatal(err)
		}
		var back cassette.Body
		if err := json.Unmarshal(data, &back); err != nil || !bytes.Equal(back, b) {
			t.Errorf("%q -> %s -> %q, %v", b, data, back, err)
		}
	}
}

func TestRedactHeader(t *testing.T) {
	h := http.Header{
		"Authorization":    {"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=0123abcd"},
		"X-Auth-Token":     {"tok"},
		"X-Security-Token": {"sec"},
		"Cookie":           {"a=b"},
		"X-Request-Id":     {"keep"},
	}
	got := cassette.RedactHeader(h)
	want := http.Header{
		"Authorization":    {"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=REDACTED"},
		"X-Auth-Token":     {"REDACTED"},
		"X-Security-Token": {"REDACTED"},
		"Cookie":           {"REDACTED"},
		"X-Request-Id":     {"keep"},
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if h.Get("X-Auth-Token") != "tok" {
		t.Error("RedactHeader changed its argument")
	}
	if got := cassette.RedactHeader(http.Header{"Authorization": {"Bearer abc"}}); got.Get("Authorization") != "REDACTED" {
		t.Errorf("bearer: %q", got.Get("Authorization"))
	}
}

func TestParseMatch(t *testing.T) {
	m, err := cassette.ParseMatch(" method, path ,query")
	if err != nil || m != (cassette.Match{Method: true, Path: true, Query: true}) || m.String() != "method,path,query" {
		t.Errorf("%+v %q %v", m, m.String(), err)
	}
	if _, err := cassette.ParseMatch("method,headers"); err == nil {
		t.Error("headers accepted")
	}
}

func exchange(method, path, body string, status int, answer string) cassette.Exchange {
	return cassette.Exchange{
		Request:  cassette.Request{Method: method, Path: path, Body: cassette.Body(body)},
		Response: cassette.Response{Status: status, Header: http.Header{"X-Request-Id": {answer}}, Body: cassette.Body(answer)},
	}
}

func TestPlayer(t *testing.T) {
	const p = "/v2/servicerequest/cases/A/relations"
	xs := []cassette.Exchange{
		exchange("GET", p, "", 200, "first"),
		exchange("POST", p, `{"related_id_list":["B"]}`, 200, "created"),
		exchange("GET", p, "", 200, "second"),
	}
	play := func(pl *cassette.Player, method, path, body string) (string, error) {
		req := httptest.NewRequest(method, "http://replay.invalid"+path, strings.NewReader(body))
		res, err := pl.RoundTrip(req)
		if err != nil {
			return "", err
		}
		b, _ := io.ReadAll(res.Body)
		return string(b), nil
	}
	pl := cassette.NewPlayer(xs, cassette.DefaultMatch)
	var got []string
	for _, r := range [][3]string{{"GET", p, ""}, {"POST", p, "{ \"related_id_list\" : [\"B\"] }"}, {"GET", p, ""}, {"GET", p, ""}} {
		b, err := play(pl, r[0], r[1], r[2])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	if want := []string{"first", "created", "second", "second"}; !slices.Equal(got, want) {
		t.Errorf("served %q, want %q", got, want)
	}

	_, err := play(pl, "POST", p, `{"related_id_list":["C"]}`)
	var nm *cassette.NoMatchError
	if !errors.As(err, &nm) || nm.Index != 2 || !slices.Equal(nm.Differs, []string{"body"}) || !strings.Contains(err.Error(), `closest is line 2, POST `+p+` with body {"related_id_list":["B"]} (differs in body)`) {
		t.Errorf("unmatched: %v", err)
	}
	// Without body in the match, any body will do.
	if b, err := play(cassette.NewPlayer(xs, cassette.Match{Method: true, Path: true}), "POST", p, `{"related_id_list":["C"]}`); err != nil || b != "created" {
		t.Errorf("method,path: %q %v", b, err)
	}
}

func TestRead(t *testing.T) {
	var buf bytes.Buffer
	r := cassette.NewRecorder(&buf)
	x := exchange("GET", "/p", "", 200, "ok")
	x.Request.Header = http.Header{"X-Auth-Token": {"secret"}}
	if err := r.Record(x); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "secret") || x.Request.Header.Get("X-Auth-Token") != "secret" {
		t.Errorf("recorded %s", buf.String())
	}
	xs, err := cassette.Read(strings.NewReader(buf.String() + "\n"))
	if err != nil || len(xs) != 1 || string(xs[0].Response.Body) != "ok" {
		t.Errorf("%+v %v", xs, err)
	}
	for _, bad := range []string{"", "{}\n", "not json\n"} {
		if _, err := cassette.Read(strings.NewReader(bad)); err == nil {
			t.Errorf("%q read without error", bad)
		}
	}
}

func TestFixtures(t *testing.T) {
	const a, b = "/v2/servicerequest/cases/A/relations", "/v2/servicerequest/cases/B/relations"
	xs := []cassette.Exchange{
		exchange("GET", a, "", 200, `{"case_relation_list":[{"case_id":"B","simple_description":"Disk full","user_name":"bob"},{"case_id":"C","simple_description":"Slow","user_name":"carol"}]}`),
		exchange("POST", a, `{"related_id_list":["D"],"group_id":"ops"}`, 200, `{}`),
		exchange("POST", a, `{"related_id_list":["E"]}`, 200, `{"error_code":"OSM.01010043","error_msg":"over 3"}`), // refused
		exchange("DELETE", b, `{"related_id":"A"}`, 200, `{}`),
		exchange("GET", "/elsewhere", "", 404, `{}`),
	}
	d, err := cassette.Fixtures(xs)
	if err != nil {
		t.Fatal(err)
	}
	rel := map[string][]string{}
	owner := map[string]string{}
	for _, tk := range d.Tickets {
		rel[tk.ID], owner[tk.ID] = tk.Relations, tk.Owner
	}
	if !slices.Equal(rel["A"], []string{"C", "D"}) || !slices.Equal(rel["C"], []string{"A"}) || len(rel["B"]) != 0 || rel["E"] != nil {
		t.Errorf("relations %v", rel)
	}
	if owner["B"] != "bob" || owner["C"] != "carol" || owner["A"] != cassette.CallerName || owner["D"] != cassette.CallerName {
		t.Errorf("owners %v", owner)
	}
	if _, seen := rel["E"]; seen {
		t.Error("a ticket named only in a refused request became a fixture")
	}
	var names []string
	for _, u := range d.Users {
		names = append(names, u.Name)
		if !slices.Equal(u.Groups, []string{"ops"}) || !slices.Equal(u.Tokens, []string{u.Name + "-token"}) {
			t.Errorf("user %+v", u)
		}
	}
	if !slices.Equal(names, []string{"bob", "caller", "carol"}) {
		t.Errorf("users %v", names)
	}
}
