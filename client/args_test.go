package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/server"
)

// Group 5: arguments are checked before anything is sent, options in New.

func TestArgumentChecks(t *testing.T) {
	s := newScripted(t)
	c := s.newClient(t, client.WithRetry(testPolicy))
	ctx := context.Background()
	long := func(n int) string { return strings.Repeat("x", n) }

	tests := []struct {
		name string
		arg  string
		call func() error
	}{
		{"list: empty caseID", "caseID", func() error { _, err := c.ListRelations(ctx, ""); return err }},
		{"list: 65-char caseID", "caseID", func() error { _, err := c.ListRelations(ctx, long(65)); return err }},
		{"create: empty caseID", "caseID", func() error { return c.CreateRelations(ctx, "", []string{"CS2"}, "g") }},
		{"create: 65-char caseID", "caseID", func() error { return c.CreateRelations(ctx, long(65), []string{"CS2"}, "g") }},
		{"create: nil relatedIDs", "relatedIDs", func() error { return c.CreateRelations(ctx, "CS1", nil, "g") }},
		{"create: 0 relatedIDs", "relatedIDs", func() error { return c.CreateRelations(ctx, "CS1", []string{}, "g") }},
		{"create: 4 relatedIDs", "relatedIDs", func() error { return c.CreateRelations(ctx, "CS1", []string{"a", "b", "c", "d"}, "g") }},
		{"create: 33-char related ID", "relatedIDs[1]", func() error { return c.CreateRelations(ctx, "CS1", []string{"CS2", long(33)}, "g") }},
		{"create: empty related ID", "relatedIDs[0]", func() error { return c.CreateRelations(ctx, "CS1", []string{""}, "g") }},
		{"create: 65-char groupID", "groupID", func() error { return c.CreateRelations(ctx, "CS1", []string{"CS2"}, long(65)) }},
		{"delete: empty caseID", "caseID", func() error { return c.DeleteRelation(ctx, "", "CS2", "") }},
		{"delete: 65-char caseID", "caseID", func() error { return c.DeleteRelation(ctx, long(65), "CS2", "") }},
		{"delete: empty relatedID", "relatedID", func() error { return c.DeleteRelation(ctx, "CS1", "", "") }},
		{"delete: 65-char relatedID", "relatedID", func() error { return c.DeleteRelation(ctx, "CS1", long(65), "") }},
		{"delete: 65-char groupID", "groupID", func() error { return c.DeleteRelation(ctx, "CS1", "CS2", long(65)) }},
	}
	for _, tc := range tests {
		err := tc.call()
		var argErr *client.ArgumentError
		if !errors.As(err, &argErr) {
			t.Errorf("%s: err = %v, want *client.ArgumentError", tc.name, err)
			continue
		}
		if argErr.Arg != tc.arg || argErr.Rule == "" || !strings.Contains(err.Error(), tc.arg) {
			t.Errorf("%s: ArgumentError %+v (%q), want it to name %s", tc.name, *argErr, err, tc.arg)
		}
		if !errors.Is(err, client.ErrValidation) {
			t.Errorf("%s: %v is not ErrValidation", tc.name, err)
		}
		for _, other := range []error{client.ErrServer, client.ErrForbidden, client.ErrUnauthenticated, client.ErrRuleViolation, client.ErrRateLimited} {
			if errors.Is(err, other) {
				t.Errorf("%s: %v also matches %v", tc.name, err, other)
			}
		}
	}
	if s.Count() != 0 {
		t.Errorf("%d requests were sent for refused arguments, want 0", s.Count())
	}

	// The limits themselves are accepted, counted in characters.
	multi := strings.Repeat("é", 64)
	if _, err := c.ListRelations(ctx, multi); err != nil {
		t.Errorf("64-character (128-byte) caseID: %v", err)
	}
	if err := c.CreateRelations(ctx, long(64), []string{long(32), "b", "c"}, long(64)); err != nil {
		t.Errorf("create at the limits: %v", err)
	}
	if err := c.DeleteRelation(ctx, long(64), long(64), ""); err != nil {
		t.Errorf("delete at the limits: %v", err)
	}
	if s.Count() != 3 {
		t.Errorf("%d requests for 3 calls at the limits", s.Count())
	}
	// A case ID that needs escaping reaches the server as one path segment.
	if _, err := c.ListRelations(ctx, "a/b c%"); err != nil {
		t.Errorf("caseID with reserved characters: %v", err)
	}
	if got := s.Requests()[3].Req.URL.EscapedPath(); got != "/v2/servicerequest/cases/a%2Fb%20c%25/relations" {
		t.Errorf("escaped path %q", got)
	}
}

func TestNewFails(t *testing.T) {
	tok := client.WithToken("tok")
	tests := []struct {
		name     string
		endpoint string
		opts     []client.Option
		argument string // the ArgumentError's Arg, or "" for another error
		mention  string // a word the message must contain
	}{
		{"empty endpoint", "", []client.Option{tok}, "endpoint", "endpoint"},
		{"ftp endpoint", "ftp://x", []client.Option{tok}, "endpoint", "ftp://x"},
		{"no scheme", "localhost:80", []client.Option{tok}, "endpoint", "localhost:80"},
		{"no host", "http://", []client.Option{tok}, "endpoint", "endpoint"},
		{"bad URL", "http://[::1", []client.Option{tok}, "endpoint", "endpoint"},
		{"no credential", "http://x", nil, "", "credential"},
		{"no credential, other options", "http://x", []client.Option{client.WithLanguage("en-us")}, "", "credential"},
		{"token and AK/SK", "http://x", []client.Option{tok, client.WithAKSK("AK", "SK")}, "", "WithToken"},
		{"domain without AK/SK", "http://x", []client.Option{tok, client.WithDomainID("d")}, "", "WithDomainID"},
		{"security token without AK/SK", "http://x", []client.Option{tok, client.WithSecurityToken("st")}, "", "WithSecurityToken"},
		{"empty token", "http://x", []client.Option{client.WithToken("")}, "token", "token"},
		{"5001-char token", "http://x", []client.Option{client.WithToken(strings.Repeat("t", client.MaxTokenLen+1))}, "token", "5000"},
		{"AK without SK", "http://x", []client.Option{client.WithAKSK("AK", "")}, "WithAKSK", "secret"},
		{"SK without AK", "http://x", []client.Option{client.WithAKSK("", "SK")}, "WithAKSK", "access key"},
		{"empty domain", "http://x", []client.Option{client.WithAKSK("AK", "SK"), client.WithDomainID("")}, "WithDomainID", "empty"},
		{"empty security token", "http://x", []client.Option{client.WithAKSK("AK", "SK"), client.WithSecurityToken("")}, "WithSecurityToken", "empty"},
		{"site 2", "http://x", []client.Option{tok, client.WithSite(2)}, "site", "2"},
		{"site -1", "http://x", []client.Option{tok, client.WithSite(-1)}, "site", "-1"},
		{"nil http client", "http://x", []client.Option{tok, client.WithHTTPClient(nil)}, "WithHTTPClient", "nil"},
		{"empty user agent", "http://x", []client.Option{tok, client.WithUserAgent("")}, "WithUserAgent", "empty"},
		{"empty language", "http://x", []client.Option{tok, client.WithLanguage("")}, "language", "empty"},
		{"33-char language", "http://x", []client.Option{tok, client.WithLanguage(strings.Repeat("l", 33))}, "language", "32"},
		{"33-char time zone", "http://x", []client.Option{tok, client.WithTimeZone(strings.Repeat("z", 33))}, "timeZone", "32"},
		{"0 attempts", "http://x", []client.Option{tok, client.WithRetry(client.RetryPolicy{})}, "RetryPolicy.MaxAttempts", "at least 1"},
		{"negative backoff", "http://x", []client.Option{tok, client.WithRetry(client.RetryPolicy{MaxAttempts: 2, InitialBackoff: -1})}, "RetryPolicy", "negative"},
		{"negative elapsed", "http://x", []client.Option{tok, client.WithRetry(client.RetryPolicy{MaxAttempts: 2, MaxElapsed: -time.Second})}, "RetryPolicy", "negative"},
		{"cap below initial", "http://x", []client.Option{tok, client.WithRetry(client.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Second, MaxBackoff: time.Millisecond})}, "RetryPolicy.MaxBackoff", "InitialBackoff"},
	}
	for _, tc := range tests {
		c, err := client.New(tc.endpoint, tc.opts...)
		if err == nil || c != nil {
			t.Errorf("%s: New = %v, %v; want an error", tc.name, c, err)
			continue
		}
		var argErr *client.ArgumentError
		if tc.argument != "" && (!errors.As(err, &argErr) || argErr.Arg != tc.argument) {
			t.Errorf("%s: err = %v, want an ArgumentError for %s", tc.name, err, tc.argument)
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: message %q does not mention %q", tc.name, err, tc.mention)
		}
	}

	// What New accepts.
	for _, tc := range []struct {
		endpoint string
		opts     []client.Option
	}{
		{"http://127.0.0.1:1", []client.Option{tok}},
		{"https://osm.myhuaweicloud.com", []client.Option{client.WithAKSK("AK", "SK"), client.WithDomainID("d"), client.WithSecurityToken("st")}},
		{"http://x", []client.Option{client.WithToken(strings.Repeat("t", client.MaxTokenLen)), client.WithLanguage(strings.Repeat("l", 32)), client.WithRetry(client.NoRetry), client.WithHTTPClient(&http.Client{})}},
	} {
		if _, err := client.New(tc.endpoint, tc.opts...); err != nil {
			t.Errorf("New(%q): %v", tc.endpoint, err)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	t.Setenv(client.EnvAK, demoAK)
	t.Setenv(client.EnvSK, demoSK)
	t.Setenv(client.EnvDomainID, demoDomain)
	t.Setenv(client.EnvSecurityToken, "")

	h := newStub(t, server.Options{})
	c := h.newClient(t, client.WithCredentialsFromEnv())
	if err := c.CreateRelations(context.Background(), "DEMO-1", []string{"DEMO-2"}, "team"); err != nil {
		t.Fatalf("CreateRelations with env credentials: %v", err)
	}
	hd := h.Headers()[0]
	if !strings.Contains(hd.Get("Authorization"), "Access="+demoAK+",") || hd.Get("X-Domain-Id") != demoDomain || hd.Get("X-Security-Token") != "" {
		t.Errorf("headers: Authorization %q, X-Domain-Id %q, X-Security-Token %q", hd.Get("Authorization"), hd.Get("X-Domain-Id"), hd.Get("X-Security-Token"))
	}

	// The env's domain reaches the stub and is checked there.
	t.Setenv(client.EnvDomainID, "outsider-domain")
	c = h.newClient(t, client.WithCredentialsFromEnv())
	if _, err := c.ListRelations(context.Background(), "DEMO-1"); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("wrong domain from env: err = %v, want ErrForbidden", err)
	}

	// The env's security token is sent and signed; the stub refuses it
	// with a permanent access key.
	t.Setenv(client.EnvDomainID, "")
	t.Setenv(client.EnvSecurityToken, "temporary-token")
	c = h.newClient(t, client.WithCredentialsFromEnv())
	_, err := c.ListRelations(context.Background(), "DEMO-1")
	if !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("security token with a permanent key: err = %v, want ErrUnauthenticated", err)
	}
	hs := h.Headers()
	hd = hs[len(hs)-1]
	if hd.Get("X-Security-Token") != "temporary-token" || !strings.Contains(hd.Get("Authorization"), "x-security-token") || hd.Get("X-Domain-Id") != "" {
		t.Errorf("headers: Authorization %q, X-Security-Token %q, X-Domain-Id %q", hd.Get("Authorization"), hd.Get("X-Security-Token"), hd.Get("X-Domain-Id"))
	}

	// A token and env credentials are alternatives.
	if _, err := client.New(h.URL, client.WithCredentialsFromEnv(), client.WithToken("tok")); err == nil {
		t.Error("WithCredentialsFromEnv + WithToken: no error")
	}

	for _, missing := range []string{client.EnvAK, client.EnvSK} {
		t.Run("missing "+missing, func(t *testing.T) {
			t.Setenv(missing, "")
			_, err := client.New(h.URL, client.WithCredentialsFromEnv())
			if err == nil || !strings.Contains(err.Error(), missing) {
				t.Errorf("err = %v, want it to name %s", err, missing)
			}
		})
	}
	assertAllValidated(t, h)
}

func TestNewRefusesControlCharactersInHeaders(t *testing.T) {
	for name, opt := range map[string]client.Option{
		"token":             client.WithToken("tok\nen"),
		"language":          client.WithLanguage("en\r\nX: y"),
		"timeZone":          client.WithTimeZone("GMT\x00"),
		"WithUserAgent":     client.WithUserAgent("ua\x7f"),
		"WithDomainID":      client.WithDomainID("d\n"),
		"WithSecurityToken": client.WithSecurityToken("s\n"),
	} {
		opts := []client.Option{opt}
		if name != "token" {
			opts = append(opts, client.WithAKSK("AK", "SK"))
		}
		_, err := client.New("http://127.0.0.1:1", opts...)
		var argErr *client.ArgumentError
		if !errors.As(err, &argErr) || argErr.Arg != name || !strings.Contains(argErr.Rule, "control character") {
			t.Errorf("%s: err = %v, want an ArgumentError about a control character", name, err)
		}
	}
}

// groupID is optional on both changes: "" sends no group_id at all, as the
// official SDK omits a nil GroupId.
func TestGroupOptional(t *testing.T) {
	s := newScripted(t)
	c := s.newClient(t)
	ctx := context.Background()
	calls := []func(group string) error{
		func(g string) error { return c.CreateRelations(ctx, "CS1", []string{"CS2"}, g) },
		func(g string) error { return c.DeleteRelation(ctx, "CS1", "CS2", g) },
	}
	for i, call := range calls {
		for _, group := range []string{"", "team"} {
			if err := call(group); err != nil {
				t.Fatalf("call %d with group %q: %v", i, group, err)
			}
			body := s.Requests()[s.Count()-1].Body
			var fields map[string]any
			if err := json.Unmarshal(body, &fields); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			got, sent := fields["group_id"]
			if sent != (group != "") || (sent && got != group) {
				t.Errorf("call %d with group %q sent %s", i, group, body)
			}
		}
	}
}
