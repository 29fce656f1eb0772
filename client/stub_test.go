package client_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/server"
)

// Group 1: the client against the in-process stub. Every stub response is
// checked against the contract by the harness (helpers_test.go).

func assertAllValidated(t *testing.T, h *stubHarness) {
	t.Helper()
	h.Close() // waits for the handlers, so that every response was checked
	reqs, validated := h.Checked()
	if reqs == 0 || validated != reqs {
		t.Errorf("stub saw %d requests, validated %d responses", reqs, validated)
	}
}

func TestStubTokenCreateListDelete(t *testing.T) {
	h := newStub(t, server.Options{})
	c := h.newClient(t, client.WithToken(demoToken))
	ctx := context.Background()

	if err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2", "TEAM-1"}, "team"); err != nil {
		t.Fatalf("CreateRelations: %v", err)
	}
	got, err := c.ListRelations(ctx, "DEMO-1")
	if err != nil {
		t.Fatalf("ListRelations: %v", err)
	}
	want := []client.Relation{
		{CaseID: "DEMO-2", Description: "SSH port 22 blocked by security group", Owner: "demo"},
		{CaseID: "TEAM-1", Description: "RDS failover took ten minutes", Owner: "teammate"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListRelations(DEMO-1) = %+v, want %+v", got, want)
	}
	// Associations are mutual.
	got, err = c.ListRelations(ctx, "DEMO-2")
	if err != nil || len(got) != 1 || got[0].CaseID != "DEMO-1" {
		t.Errorf("ListRelations(DEMO-2) = %+v, %v; want DEMO-1", got, err)
	}
	// Re-associating is accepted.
	if err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team"); err != nil {
		t.Errorf("CreateRelations again: %v", err)
	}

	if err := c.DeleteRelation(ctx, "DEMO-1", "DEMO-2", ""); err != nil {
		t.Fatalf("DeleteRelation without group: %v", err)
	}
	if err := c.DeleteRelation(ctx, "DEMO-1", "TEAM-1", "team"); err != nil {
		t.Fatalf("DeleteRelation with group: %v", err)
	}
	// Removing a pair that is not associated succeeds.
	if err := c.DeleteRelation(ctx, "DEMO-1", "DEMO-2", "team"); err != nil {
		t.Errorf("DeleteRelation of an absent pair: %v", err)
	}
	got, err = c.ListRelations(ctx, "DEMO-1")
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("ListRelations after delete = %#v, %v; want an empty non-nil slice", got, err)
	}
	for _, hd := range h.Headers() {
		if hd.Get("X-Auth-Token") != demoToken || hd.Get("Authorization") != "" {
			t.Errorf("token request headers: X-Auth-Token %q, Authorization %q", hd.Get("X-Auth-Token"), hd.Get("Authorization"))
		}
	}
	assertAllValidated(t, h)
}

func TestStubAKSKCreateListDelete(t *testing.T) {
	h := newStub(t, server.Options{})
	c := h.newClient(t, client.WithAKSK(demoAK, demoSK))
	ctx := context.Background()

	if err := c.CreateRelations(ctx, "DEMO-3", []string{"DEMO-4"}, "team"); err != nil {
		t.Fatalf("CreateRelations: %v", err)
	}
	got, err := c.ListRelations(ctx, "DEMO-4")
	want := []client.Relation{{CaseID: "DEMO-3", Description: "Elastic IP unbound after resize", Owner: "demo"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListRelations = %+v, %v; want %+v", got, err, want)
	}
	if err := c.DeleteRelation(ctx, "DEMO-4", "DEMO-3", "team"); err != nil {
		t.Fatalf("DeleteRelation: %v", err)
	}
	if got, err := c.ListRelations(ctx, "DEMO-3"); err != nil || len(got) != 0 {
		t.Errorf("ListRelations after delete = %+v, %v", got, err)
	}
	for _, hd := range h.Headers() {
		auth := hd.Get("Authorization")
		if !strings.HasPrefix(auth, "SDK-HMAC-SHA256 Access="+demoAK+", ") || hd.Get("X-Sdk-Date") == "" {
			t.Errorf("signed request: Authorization %q, X-Sdk-Date %q", auth, hd.Get("X-Sdk-Date"))
		}
		if hd.Get("X-Auth-Token") != "" || hd.Get("X-Domain-Id") != "" {
			t.Errorf("signed request also sent X-Auth-Token %q / X-Domain-Id %q", hd.Get("X-Auth-Token"), hd.Get("X-Domain-Id"))
		}
	}
	assertAllValidated(t, h)
}

// The stub checks the signing date against its own clock: with both
// clocks fixed far from now the signature still verifies, and a client
// whose clock is off by more than the allowed skew is refused.
func TestStubAKSKClock(t *testing.T) {
	h := newStub(t, server.Options{Now: func() time.Time { return epoch }})
	ctx := context.Background()

	inSync := h.newClient(t, client.WithAKSK(demoAK, demoSK), client.WithClock(func() time.Time { return epoch.Add(time.Minute) }))
	if _, err := inSync.ListRelations(ctx, "DEMO-1"); err != nil {
		t.Errorf("client clock 1 minute off: %v", err)
	}
	skewed := h.newClient(t, client.WithAKSK(demoAK, demoSK), client.WithClock(func() time.Time { return epoch.Add(aksk.DefaultMaxSkew + time.Minute) }))
	_, err := skewed.ListRelations(ctx, "DEMO-1")
	if !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("client clock beyond the skew: err = %v, want ErrUnauthenticated", err)
	}
	assertAllValidated(t, h)
}

func TestStubAKSKDomainID(t *testing.T) {
	h := newStub(t, server.Options{})
	ctx := context.Background()

	right := h.newClient(t, client.WithAKSK(demoAK, demoSK), client.WithDomainID(demoDomain))
	if err := right.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team"); err != nil {
		t.Fatalf("right domain: CreateRelations: %v", err)
	}
	if _, err := right.ListRelations(ctx, "DEMO-1"); err != nil {
		t.Fatalf("right domain: ListRelations: %v", err)
	}
	for _, hd := range h.Headers() {
		if hd.Get("X-Domain-Id") != demoDomain || !strings.Contains(hd.Get("Authorization"), "x-domain-id") {
			t.Errorf("X-Domain-Id %q sent, Authorization %q: want it sent and signed", hd.Get("X-Domain-Id"), hd.Get("Authorization"))
		}
	}

	wrong := h.newClient(t, client.WithAKSK(demoAK, demoSK), client.WithDomainID("outsider-domain"))
	_, err := wrong.ListRelations(ctx, "DEMO-1")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || apiErr.Code != "APIGW.0302" {
		t.Fatalf("wrong domain: err = %#v, want a 403 APIGW.0302 *APIError", err)
	}
	if !errors.Is(err, client.ErrForbidden) || errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("wrong domain: %v is not (only) ErrForbidden", err)
	}
	assertAllValidated(t, h)
}

func TestStubBadSignature(t *testing.T) {
	h := newStub(t, server.Options{})
	ctx := context.Background()
	for name, c := range map[string]*client.Client{
		"wrong SK":     h.newClient(t, client.WithAKSK(demoAK, "not-the-secret")),
		"unknown AK":   h.newClient(t, client.WithAKSK("NOSUCHAK00000000000001", demoSK)),
		"wrong secret": h.newClient(t, client.WithAKSK("OUTAK0000000000000001", demoSK)),
	} {
		_, err := c.ListRelations(ctx, "DEMO-1")
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || !errors.Is(err, client.ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want a 401 ErrUnauthenticated", name, err)
		}
	}
	assertAllValidated(t, h)
}

func TestStubWrongToken(t *testing.T) {
	h := newStub(t, server.Options{})
	c := h.newClient(t, client.WithToken("no-such-token"))
	ctx := context.Background()

	calls := map[string]func() error{
		"CreateRelations": func() error { return c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team") },
		"ListRelation":    func() error { _, err := c.ListRelations(ctx, "DEMO-1"); return err },
		"DeleteRelation":  func() error { return c.DeleteRelation(ctx, "DEMO-1", "DEMO-2", "") },
	}
	for op, call := range calls {
		before, _ := h.Checked()
		err := call()
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) {
			t.Errorf("%s: err = %v, want *APIError", op, err)
			continue
		}
		if apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != client.CodeUnauthorized || apiErr.RequestID == "" || apiErr.Operation != op || apiErr.Message == "" {
			t.Errorf("%s: APIError = %+v", op, *apiErr)
		}
		if !errors.Is(err, client.ErrUnauthenticated) || errors.Is(err, client.ErrForbidden) || errors.Is(err, client.ErrValidation) {
			t.Errorf("%s: %v is not (only) ErrUnauthenticated", op, err)
		}
		if !strings.Contains(err.Error(), apiErr.RequestID) || !strings.Contains(err.Error(), op) {
			t.Errorf("%s: message %q lacks the operation or request id", op, err)
		}
		if after, _ := h.Checked(); after-before != 1 {
			t.Errorf("%s: %d attempts for a 401, want 1", op, after-before)
		}
	}
	assertAllValidated(t, h)
}

func TestStubAssociationLimit(t *testing.T) {
	h := newStub(t, server.Options{})
	c := h.newClient(t, client.WithToken(demoToken))
	ctx := context.Background()
	if err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2", "DEMO-3", "DEMO-4"}, "team"); err != nil {
		t.Fatalf("three associations: %v", err)
	}
	before, _ := h.Checked()
	err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-5"}, "team")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("fourth association: err = %v, want *APIError", err)
	}
	if apiErr.StatusCode != http.StatusOK || apiErr.Code != client.CodeLimit || apiErr.Operation != "CreateRelations" || apiErr.RequestID == "" {
		t.Errorf("fourth association: APIError = %+v", *apiErr)
	}
	if !errors.Is(err, client.ErrRuleViolation) || errors.Is(err, client.ErrForbidden) {
		t.Errorf("fourth association: %v is not (only) ErrRuleViolation", err)
	}
	if after, _ := h.Checked(); after-before != 1 {
		t.Errorf("a 200 with error_code was sent %d times, want 1", after-before)
	}
	// Nothing changed.
	if rels, err := c.ListRelations(ctx, "DEMO-1"); err != nil || len(rels) != 3 {
		t.Errorf("after the refusal: %d relations, %v", len(rels), err)
	}
	assertAllValidated(t, h)
}

func TestStubNoPermission(t *testing.T) {
	h := newStub(t, server.Options{})
	c := h.newClient(t, client.WithToken(outsiderToken))
	ctx := context.Background()

	_, err := c.ListRelations(ctx, "DEMO-1")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusOK || apiErr.Code != client.CodeNoPermission || apiErr.Operation != "ListRelation" {
		t.Fatalf("outsider ListRelations(DEMO-1): err = %v, want a 200 %s *APIError", err, client.CodeNoPermission)
	}
	if !errors.Is(err, client.ErrForbidden) || errors.Is(err, client.ErrRuleViolation) {
		t.Errorf("%v is not (only) ErrForbidden", err)
	}
	for name, err := range map[string]error{
		"create": c.CreateRelations(ctx, "DEMO-1", []string{"OUT-1"}, "team"),
		"delete": c.DeleteRelation(ctx, "DEMO-1", "DEMO-2", ""),
	} {
		if !errors.Is(err, client.ErrForbidden) {
			t.Errorf("outsider %s on DEMO-1: err = %v, want ErrForbidden", name, err)
		}
	}
	assertAllValidated(t, h)
}

func TestStubHeaders(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, h *stubHarness, c *client.Client) {
		t.Helper()
		if err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListRelations(ctx, "DEMO-1"); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteRelation(ctx, "DEMO-1", "DEMO-2", "team"); err != nil {
			t.Fatal(err)
		}
		if n := len(h.Headers()); n != 3 {
			t.Fatalf("stub saw %d requests, want 3", n)
		}
	}

	t.Run("set", func(t *testing.T) {
		h := newStub(t, server.Options{})
		c := h.newClient(t, client.WithToken(demoToken),
			client.WithLanguage("en-us"), client.WithTimeZone("GMT+1"),
			client.WithSite(client.InternationalSite), client.WithUserAgent("my-tool/2.0"))
		run(t, h, c)
		for i, hd := range h.Headers() {
			for name, want := range map[string]string{
				"X-Language": "en-us", "X-Time-Zone": "GMT+1", "X-Site": "1", "User-Agent": "my-tool/2.0",
			} {
				if got := hd.Values(name); len(got) != 1 || got[0] != want {
					t.Errorf("request %d: %s = %q, want %q", i, name, got, want)
				}
			}
		}
		assertAllValidated(t, h)
	})

	t.Run("china site", func(t *testing.T) {
		h := newStub(t, server.Options{})
		c := h.newClient(t, client.WithToken(demoToken), client.WithSite(client.ChinaSite))
		run(t, h, c)
		for i, hd := range h.Headers() {
			if got := hd.Get("X-Site"); got != "0" {
				t.Errorf("request %d: X-Site = %q, want 0", i, got)
			}
		}
		assertAllValidated(t, h)
	})

	t.Run("defaults", func(t *testing.T) {
		h := newStub(t, server.Options{})
		c := h.newClient(t, client.WithToken(demoToken))
		run(t, h, c)
		for i, hd := range h.Headers() {
			if got := hd.Get("User-Agent"); got != client.DefaultUserAgent {
				t.Errorf("request %d: User-Agent = %q, want %q", i, got, client.DefaultUserAgent)
			}
			for _, name := range []string{"X-Language", "X-Time-Zone", "X-Site"} {
				if v, ok := hd[name]; ok {
					t.Errorf("request %d: %s = %q sent without an option; the service's default applies", i, name, v)
				}
			}
		}
		assertAllValidated(t, h)
	})

	t.Run("signed", func(t *testing.T) {
		// The option headers and User-Agent are present at signing time, so
		// they are signed, and the stub still verifies the signature.
		h := newStub(t, server.Options{})
		c := h.newClient(t, client.WithAKSK(demoAK, demoSK),
			client.WithLanguage("en-us"), client.WithTimeZone("GMT+1"),
			client.WithSite(client.InternationalSite), client.WithUserAgent("my-tool/2.0"))
		run(t, h, c)
		for i, hd := range h.Headers() {
			a, err := aksk.ParseAuthorization(hd.Get("Authorization"))
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			for _, name := range []string{"user-agent", "x-language", "x-site", "x-time-zone"} {
				if !contains(a.SignedHeaders, name) {
					t.Errorf("request %d: %s not signed (SignedHeaders %v)", i, name, a.SignedHeaders)
				}
			}
		}
		assertAllValidated(t, h)
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
