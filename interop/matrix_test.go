package interop

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	osm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/osm/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/osm/v2/model"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// A temporary credential of the demo user, added to the demo data: the
// built-in data set has none.
const (
	tempAK    = "DEMOTMPAK000000000001"
	tempSK    = "demo-temporary-secret"
	tempToken = "demo-security-token"
)

// withTemporaryKey is the demo data set with tempAK on the demo user.
func withTemporaryKey(t *testing.T) *store.Dataset {
	t.Helper()
	d := fixtures.Demo()
	for i := range d.Users {
		if d.Users[i].Name == "demo" {
			d.Users[i].Keys = append(d.Users[i].Keys, store.AccessKey{AK: tempAK, SK: tempSK, SecurityToken: tempToken})
			return &d
		}
	}
	t.Fatal("the demo data set has no user demo")
	return nil
}

// sdkOptions are how a test configures the official client.
type sdkOptions struct {
	ak, sk, domain, securityToken string
	algorithm                     algorithm.SigningAlgorithm // "" is the SDK's default
	timeout                       time.Duration              // 0 is the SDK's default
}

// newSDKWith builds the official client as a user would, pointed at the
// stub by endpoint and not by region: the SDK then never calls IAM, with
// or without a domain ID (it resolves a missing one only for a region).
func newSDKWith(t *testing.T, endpoint string, o sdkOptions) *osm.OsmClient {
	t.Helper()
	b := global.NewCredentialsBuilder().WithAk(o.ak).WithSk(o.sk)
	if o.domain != "" {
		b = b.WithDomainId(o.domain)
	}
	if o.securityToken != "" {
		b = b.WithSecurityToken(o.securityToken)
	}
	auth, err := b.SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc := config.DefaultHttpConfig()
	if o.algorithm != "" {
		hc = hc.WithSigningAlgorithm(o.algorithm)
	}
	if o.timeout != 0 {
		hc = hc.WithTimeout(o.timeout)
	}
	c, err := osm.OsmClientBuilder().WithEndpoints([]string{endpoint}).WithCredential(auth).WithHttpConfig(hc).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return osm.NewOsmClient(c)
}

// startStub serves srv on 127.0.0.1 behind a recorder.
func startStub(t *testing.T, opts server.Options) (*server.Server, *httptest.Server, *recorder) {
	t.Helper()
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: srv}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	return srv, ts, rec
}

// wantSDKError checks that err is the SDK's *sdkerr.ServiceResponseError
// with this status, code and message, and the X-Request-Id the stub sent.
func wantSDKError(t *testing.T, err error, rec *recorder, status int, code, msg string) {
	t.Helper()
	var sre *sdkerr.ServiceResponseError
	if !errors.As(err, &sre) {
		t.Fatalf("err = %v (%T), want *sdkerr.ServiceResponseError", err, err)
	}
	if sre.StatusCode != status || sre.ErrorCode != code || sre.ErrorMessage != msg {
		t.Errorf("got %d %s %q\nwant %d %s %q", sre.StatusCode, sre.ErrorCode, sre.ErrorMessage, status, code, msg)
	}
	if id := rec.last().responseID; sre.RequestId == "" || sre.RequestId != id {
		t.Errorf("RequestId = %q, want the X-Request-Id %q", sre.RequestId, id)
	}
}

// The credentials the SDK offers for a global service, and what it sends
// with each: X-Domain-Id only with a domain ID, X-Security-Token only with
// a temporary key, both signed.
func TestSDKCredentials(t *testing.T) {
	const unauthorized = "Incorrect IAM authentication information: "
	tests := []struct {
		name string
		o    sdkOptions
		// wantMsg is the 401 APIGW.0301's message; "" expects success.
		wantMsg string
	}{
		{"permanent key with domain ID", sdkOptions{ak: demoAK, sk: demoSK, domain: demoDomain}, ""},
		{"permanent key without domain ID", sdkOptions{ak: demoAK, sk: demoSK}, ""},
		{"temporary key, right token", sdkOptions{ak: tempAK, sk: tempSK, domain: demoDomain, securityToken: tempToken}, ""},
		{"temporary key, right token, no domain ID", sdkOptions{ak: tempAK, sk: tempSK, securityToken: tempToken}, ""},
		{"temporary key, wrong token", sdkOptions{ak: tempAK, sk: tempSK, domain: demoDomain, securityToken: "not-the-token"},
			unauthorized + "X-Security-Token does not match the temporary access key"},
		{"temporary key, no token", sdkOptions{ak: tempAK, sk: tempSK, domain: demoDomain},
			unauthorized + "X-Security-Token does not match the temporary access key"},
		{"permanent key with a token", sdkOptions{ak: demoAK, sk: demoSK, domain: demoDomain, securityToken: tempToken},
			unauthorized + "X-Security-Token sent with a permanent access key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ts, rec := startStub(t, server.Options{Fixtures: withTemporaryKey(t)})
			c := newSDKWith(t, ts.URL, tt.o)
			resp, err := c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1"})
			if tt.wantMsg == "" {
				if err != nil || resp.HttpStatusCode != 200 || resp.CaseRelationList == nil {
					t.Fatalf("ListRelation = %v, %v; want a 200 with a list", resp, err)
				}
			} else {
				wantSDKError(t, err, rec, 401, "APIGW.0301", tt.wantMsg)
			}

			x := rec.only(t)
			signed := x.signedHeaders()
			for h, want := range map[string]string{"X-Domain-Id": tt.o.domain, "X-Security-Token": tt.o.securityToken} {
				if got := x.request.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
				if want != "" && !strings.Contains(";"+signed+";", ";"+strings.ToLower(h)+";") {
					t.Errorf("%s is not in SignedHeaders %q", h, signed)
				}
			}
		})
	}
}

// OSM is a global service: the SDK's builder refuses project (basic)
// credentials before anything is sent.
func TestSDKBasicCredentialsRefused(t *testing.T) {
	auth, err := basic.NewCredentialsBuilder().WithAk(demoAK).WithSk(demoSK).WithProjectId("demo-project").SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	_, err = osm.OsmClientBuilder().WithEndpoints([]string{"http://127.0.0.1:1"}).WithCredential(auth).SafeBuild()
	if err == nil || !strings.Contains(err.Error(), "global.Credentials") {
		t.Fatalf("SafeBuild with basic credentials = %v, want an error naming global.Credentials", err)
	}
}

// The SDK's other signers are refused with the 401 that names the one
// algorithm the stub verifies. Whether the live gateway accepts them is
// unknown (docs/fidelity.md).
func TestSDKSigningAlgorithms(t *testing.T) {
	tests := []struct {
		alg    algorithm.SigningAlgorithm
		header string // the first word of the Authorization header
	}{
		{algorithm.HmacSHA256, "SDK-HMAC-SHA256"},
		{algorithm.HmacSM3, "SDK-HMAC-SM3"},
		{algorithm.EcdsaP256SHA256, "SDK-ECDSA-P256-SHA256"},
		{algorithm.SM2SM3, "SDK-SM2-SM3"},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			_, ts, rec := startStub(t, server.Options{})
			c := newSDKWith(t, ts.URL, sdkOptions{ak: demoAK, sk: demoSK, domain: demoDomain, algorithm: tt.alg})
			resp, err := c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1"})
			if alg, _, _ := strings.Cut(rec.only(t).request.Get("Authorization"), " "); alg != tt.header {
				t.Fatalf("the SDK signed with %q, want %q", alg, tt.header)
			}
			if tt.header == "SDK-HMAC-SHA256" {
				if err != nil || resp.HttpStatusCode != 200 {
					t.Fatalf("ListRelation = %v, %v", resp, err)
				}
				return
			}
			wantSDKError(t, err, rec, 401, "APIGW.0301",
				`Incorrect IAM authentication information: verify aksk signature fail: malformed Authorization header: unsupported algorithm "`+tt.header+`", want SDK-HMAC-SHA256`)
		})
	}
}

// failingStore is a memory store that fails every call with err once err
// is set, as a broken or unreachable database does.
type failingStore struct {
	*memory.Store
	err atomic.Pointer[error]
}

func (s *failingStore) fail(err error) { s.err.Store(&err) }

func (s *failingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.err.Load(); err != nil {
		return *err
	}
	return s.Store.View(ctx, fn)
}

func (s *failingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.err.Load(); err != nil {
		return *err
	}
	return s.Store.Update(ctx, fn)
}

// Every error status the stub answers through the SDK's path, as the SDK
// reports it: *sdkerr.ServiceResponseError with the status, the body's
// error_code and error_msg, and the X-Request-Id header as RequestId.
func TestSDKErrorStatuses(t *testing.T) {
	listDemo := func(c *osm.OsmClient) error {
		_, err := c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1"})
		return err
	}
	tests := []struct {
		name   string
		opts   server.Options // Store is set to a failingStore
		sdk    sdkOptions
		setup  func(*testing.T, *server.Server, *failingStore)
		call   func(*osm.OsmClient) error
		status int
		code   string
		msg    string // "": "internal error; request id <X-Request-Id>"
		prefix bool   // msg is only the message's beginning
	}{
		{
			name: "400 out of contract", status: 400, code: "OSM.0001",
			msg: "related_id_list: maximum number of items is 3",
			call: func(c *osm.OsmClient) error {
				_, err := c.CreateRelations(&model.CreateRelationsRequest{
					CaseId: "DEMO-1",
					Body:   &model.CreateRelationsReq{RelatedIdList: []string{"A", "B", "C", "D"}},
				})
				return err
			},
		},
		{
			name: "401 wrong secret key", sdk: sdkOptions{ak: demoAK, sk: "not-the-secret", domain: demoDomain},
			status: 401, code: "APIGW.0301", call: listDemo,
			msg: "Incorrect IAM authentication information: verify aksk signature fail: signature mismatch: the request differs from what was signed, or the SK is not the one it was signed with",
		},
		{
			name: "401 unknown access key", sdk: sdkOptions{ak: "NOSUCHAK00000000000001", sk: demoSK, domain: demoDomain},
			status: 401, code: "APIGW.0301", call: listDemo,
			msg: "Incorrect IAM authentication information: Get secretKey failed, err: ak not exist: NOSUCHAK00000000000001",
		},
		{
			name: "403 another account's domain ID", sdk: sdkOptions{ak: demoAK, sk: demoSK, domain: "outsider-domain"},
			status: 403, code: "APIGW.0302", call: listDemo,
			msg: "The IAM user is not authorized to access the API: X-Domain-Id does not match the account of the access key",
		},
		{
			// The SDK sends an empty path parameter as it is: .../cases//relations.
			name: "400 empty case ID", status: 400, code: "OSM.0001", msg: "case_id: is required",
			call: func(c *osm.OsmClient) error {
				_, err := c.ListRelation(&model.ListRelationRequest{CaseId: ""})
				return err
			},
		},
		{
			// Nor does it escape one: "DEMO-1/x" makes a path the API lacks.
			name: "404 case ID with a slash", status: 404, code: "APIGW.0101",
			msg: "The API does not exist or has not been published in the environment.",
			call: func(c *osm.OsmClient) error {
				_, err := c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1/x"})
				return err
			},
		},
		{
			name: "413 body over 1 MiB", status: 413, code: "APIGW.0201", msg: "Request entity too large.",
			call: func(c *osm.OsmClient) error {
				_, err := c.CreateRelations(&model.CreateRelationsRequest{
					CaseId: "DEMO-1",
					Body:   &model.CreateRelationsReq{RelatedIdList: []string{strings.Repeat("A", 1<<20)}},
				})
				return err
			},
		},
		{
			// Only the gateway's phrase is pinned: the wording of the limit
			// after it is the stub's to settle (docs/fidelity.md, Throttled).
			name: "429 over the rate limit", status: 429, code: "APIGW.0308", prefix: true,
			msg:  "The throttling threshold has been reached: policy user over ratelimit",
			opts: server.Options{RateLimit: 1},
			call: func(c *osm.OsmClient) error {
				// A burst of one a second: the second call is throttled
				// unless a second passed between them; a few tries make
				// that wait irrelevant.
				for range 20 {
					if err := listDemo(c); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			name: "500 store failure", status: 500, code: "OSM.0004", call: listDemo,
			setup: func(_ *testing.T, _ *server.Server, s *failingStore) { s.fail(errors.New("disk on fire")) },
		},
		{
			name: "502 store unreachable", status: 502, code: "APIGW.0201", call: listDemo,
			msg:   "Backend unavailable. The stub's store cannot be reached; retry later.",
			setup: func(_ *testing.T, _ *server.Server, s *failingStore) { s.fail(store.ErrUnavailable) },
		},
		{
			// A sequence's status without a code gets server.FaultDefault's.
			name: "injected 500", status: 500, code: "OSM.0004", msg: "Internal Server Error", call: listDemo,
			setup: func(t *testing.T, srv *server.Server, _ *failingStore) {
				if err := srv.SetFault("ListRelation", server.Fault{Sequence: []int{500}}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "injected 503, no code: the gateway's", status: 503, code: "APIGW.0613", msg: "The IAM service is currently unavailable.", call: listDemo,
			setup: func(t *testing.T, srv *server.Server, _ *failingStore) {
				if err := srv.SetFault("ListRelation", server.Fault{Status: 503}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "injected 503 with the gateway's code", status: 503, code: "APIGW.0202", msg: "Backend unavailable.", call: listDemo,
			setup: func(t *testing.T, srv *server.Server, _ *failingStore) {
				if err := srv.SetFault("ListRelation", server.Fault{Status: 503, Code: "APIGW.0202", Message: "Backend unavailable."}); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &failingStore{Store: memory.New()}
			opts := tt.opts
			opts.Store = st
			srv, ts, rec := startStub(t, opts)
			if tt.setup != nil {
				tt.setup(t, srv, st)
			}
			o := tt.sdk
			if o.ak == "" {
				o = sdkOptions{ak: demoAK, sk: demoSK, domain: demoDomain}
			}
			endpoint := ts.URL
			if tt.status == 404 {
				endpoint += "/osm" // a misconfigured endpoint: the SDK appends the API's path
			}
			err := tt.call(newSDKWith(t, endpoint, o))
			msg := tt.msg
			if msg == "" {
				msg = "internal error; request id " + rec.last().responseID
			}
			if tt.prefix {
				var sre *sdkerr.ServiceResponseError
				if errors.As(err, &sre) && strings.HasPrefix(sre.ErrorMessage, msg) {
					msg = sre.ErrorMessage
				}
			}
			wantSDKError(t, err, rec, tt.status, tt.code, msg)
		})
	}
}

// The SDK has no class of its own for a failure below HTTP: its
// ConnectionError and RequestTimeoutError are declared but never returned
// (v0.1.215); a dropped connection and a timeout come back as the
// *url.Error of net/http.
func TestSDKTransportErrors(t *testing.T) {
	tests := []struct {
		name        string
		fault       server.Fault
		timeout     time.Duration
		wantTimeout bool
	}{
		{"connection dropped", server.Fault{Drop: true}, 0, false},
		{"no answer within the timeout", server.Fault{Latency: time.Minute}, 200 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, ts, _ := startStub(t, server.Options{})
			if err := srv.SetFault("ListRelation", tt.fault); err != nil {
				t.Fatal(err)
			}
			c := newSDKWith(t, ts.URL, sdkOptions{ak: demoAK, sk: demoSK, domain: demoDomain, timeout: tt.timeout})
			_, err := c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1"})
			var (
				sre *sdkerr.ServiceResponseError
				ce  *sdkerr.ConnectionError
				rte *sdkerr.RequestTimeoutError
				ue  *url.Error
			)
			if errors.As(err, &sre) || errors.As(err, &ce) || errors.As(err, &rte) {
				t.Fatalf("err = %v (%T): the SDK now has a class for it; update this test and docs/api.md", err, err)
			}
			if !errors.As(err, &ue) || ue.Timeout() != tt.wantTimeout {
				t.Fatalf("err = %v (%T), want a *url.Error with Timeout() %v", err, err, tt.wantTimeout)
			}
		})
	}
}

// The SDK's ListRelationResponse has no error_code field, so a refused
// list reaches its users as an empty response and a nil error; the
// project's client returns the refusal as an *client.APIError.
// docs/api.md says so (AK/SK signing); this test keeps that note true.
func TestSDKListRefusalIsSilent(t *testing.T) {
	if f, ok := reflect.TypeFor[model.ListRelationResponse]().FieldByName("ErrorCode"); ok {
		t.Fatalf("model.ListRelationResponse has %s %s now: update docs/api.md and this test", f.Name, f.Tag)
	}
	page, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	const note = "The SDK's `ListRelationResponse` has no `error_code` field, so a refused list"
	if !strings.Contains(strings.Join(strings.Fields(string(page)), " "), note) {
		t.Errorf("docs/api.md lacks the note %q", note)
	}
	tests := []struct {
		caseID, code string
		class        error
	}{
		{"OUT-1", "OSM.01010002", client.ErrForbidden},      // another user's ticket
		{"NOPE-1", "OSM.01010015", client.ErrRuleViolation}, // no such ticket
	}
	for _, tt := range tests {
		t.Run(tt.caseID, func(t *testing.T) {
			_, ts, rec := startStub(t, server.Options{})
			sdk := newSDKWith(t, ts.URL, sdkOptions{ak: demoAK, sk: demoSK, domain: demoDomain})
			resp, err := sdk.ListRelation(&model.ListRelationRequest{CaseId: tt.caseID})
			if err != nil || resp.HttpStatusCode != 200 || resp.CaseRelationList != nil {
				t.Fatalf("SDK ListRelation(%s) = %v, %v; want a 200 with no list and no error", tt.caseID, resp, err)
			}

			own, err := client.New(ts.URL, client.WithAKSK(demoAK, demoSK), client.WithDomainID(demoDomain))
			if err != nil {
				t.Fatal(err)
			}
			rels, err := own.ListRelations(t.Context(), tt.caseID)
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, tt.class) {
				t.Fatalf("client ListRelations(%s) = %v, %v; want an *client.APIError of class %v", tt.caseID, rels, err, tt.class)
			}
			if apiErr.StatusCode != 200 || apiErr.Code != tt.code || apiErr.Message == "" || apiErr.RequestID != rec.last().responseID {
				t.Errorf("client error = %+v, want 200 %s with a message and the request ID %s", apiErr, tt.code, rec.last().responseID)
			}
		})
	}
}
