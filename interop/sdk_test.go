package interop

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	osm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/osm/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/osm/v2/model"

	"github.com/osmstub/osmstub/server"
)

// Demo credentials of the stub's built-in data set.
const (
	demoAK     = "DEMOAK0000000000000001"
	demoSK     = "demo-secret-key"
	demoDomain = "demo-domain"
)

// recorder keeps each exchange's request headers and the X-Request-Id of
// its response, to compare with what the SDK sends and reports. The stub
// never flushes, and net/http sends its small answers only once the
// handler returns, so an exchange is recorded before the SDK sees it.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	xs   []exchange
}

type exchange struct {
	request    http.Header
	responseID string
}

// signedHeaders is the SignedHeaders field of the request's Authorization.
func (x exchange) signedHeaders() string {
	_, rest, _ := strings.Cut(x.request.Get("Authorization"), "SignedHeaders=")
	v, _, _ := strings.Cut(rest, ",")
	return v
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	h := req.Header.Clone()
	r.next.ServeHTTP(w, req)
	r.mu.Lock()
	r.xs = append(r.xs, exchange{request: h, responseID: w.Header().Get("X-Request-Id")})
	r.mu.Unlock()
}

func (r *recorder) last() exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.xs[len(r.xs)-1]
}

// only is the one exchange that reached the stub: the SDK made no other
// call (to IAM, say).
func (r *recorder) only(t *testing.T) exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.xs) != 1 {
		t.Fatalf("%d requests reached the stub, want 1", len(r.xs))
	}
	return r.xs[0]
}

// newStub starts the stub on 127.0.0.1 with its demo data.
func newStub(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: srv}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	return ts, rec
}

// newSDK configures the official client as a user would for the real
// endpoint (global AK/SK credentials with a domain ID), pointed at the stub.
func newSDK(t *testing.T, endpoint, ak, sk string) *osm.OsmClient {
	t.Helper()
	return newSDKWith(t, endpoint, sdkOptions{ak: ak, sk: sk, domain: demoDomain})
}

func ptr[T any](v T) *T { return &v }

// GroupId is optional since SDK v0.1.141 and nil by default: the owner acts
// on its own tickets without it, and another user's ticket still needs it.
func TestSDKWithoutGroup(t *testing.T) {
	ts, _ := newStub(t)
	c := newSDK(t, ts.URL, demoAK, demoSK)
	created, err := c.CreateRelations(&model.CreateRelationsRequest{
		CaseId: "DEMO-1",
		Body:   &model.CreateRelationsReq{RelatedIdList: []string{"DEMO-2"}},
	})
	if err != nil || created.ErrorCode != nil && *created.ErrorCode != "" {
		t.Fatalf("CreateRelations without GroupId = %v, %v", created, err)
	}
	foreign, err := c.CreateRelations(&model.CreateRelationsRequest{
		CaseId: "DEMO-1",
		Body:   &model.CreateRelationsReq{RelatedIdList: []string{"TEAM-1"}},
	})
	if err != nil || foreign.ErrorCode == nil || *foreign.ErrorCode != "OSM.01010002" {
		t.Fatalf("CreateRelations on a teammate's ticket without GroupId = %v, %v; want OSM.01010002", foreign, err)
	}
	deleted, err := c.DeleteRelation(&model.DeleteRelationRequest{
		CaseId: "DEMO-1",
		Body:   &model.DeleteRelationsReq{RelatedId: "DEMO-2"},
	})
	if err != nil || deleted.ErrorCode != nil && *deleted.ErrorCode != "" {
		t.Fatalf("DeleteRelation without GroupId = %v, %v", deleted, err)
	}
	listed, err := c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1"})
	if err != nil || len(*listed.CaseRelationList) != 0 {
		t.Fatalf("ListRelation after create and delete = %v, %v", listed, err)
	}
}

func TestSDKCreateListDelete(t *testing.T) {
	ts, rec := newStub(t)
	c := newSDK(t, ts.URL, demoAK, demoSK)

	created, err := c.CreateRelations(&model.CreateRelationsRequest{
		CaseId: "DEMO-1",
		Body:   &model.CreateRelationsReq{RelatedIdList: []string{"DEMO-2", "TEAM-1"}, GroupId: ptr("team")},
	})
	if err != nil {
		t.Fatalf("CreateRelations: %v", err)
	}
	if created.HttpStatusCode != 200 || created.ErrorCode != nil && *created.ErrorCode != "" {
		t.Fatalf("CreateRelations = %v", created)
	}

	listed, err := c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1", XLanguage: ptr("en-us"), XSite: ptr(int32(1))})
	if err != nil {
		t.Fatalf("ListRelation: %v", err)
	}
	var got []string
	for _, r := range *listed.CaseRelationList {
		got = append(got, *r.CaseId+"/"+*r.UserName)
	}
	if len(got) != 2 || got[0] != "DEMO-2/demo" || got[1] != "TEAM-1/teammate" {
		t.Fatalf("ListRelation = %v", got)
	}

	if _, err := c.DeleteRelation(&model.DeleteRelationRequest{
		CaseId: "DEMO-1",
		Body:   &model.DeleteRelationsReq{RelatedId: "TEAM-1", GroupId: ptr("team")},
	}); err != nil {
		t.Fatalf("DeleteRelation: %v", err)
	}
	// DeleteRelation without group_id: the SDK omits the field.
	if _, err := c.DeleteRelation(&model.DeleteRelationRequest{
		CaseId: "DEMO-1",
		Body:   &model.DeleteRelationsReq{RelatedId: "DEMO-2"},
	}); err != nil {
		t.Fatalf("DeleteRelation without group: %v", err)
	}
	listed, err = c.ListRelation(&model.ListRelationRequest{CaseId: "TEAM-1"})
	if err != nil {
		t.Fatalf("ListRelation: %v", err)
	}
	if n := len(*listed.CaseRelationList); n != 0 {
		t.Errorf("TEAM-1 still has %d associations", n)
	}
	if rec.last().responseID == "" {
		t.Error("no X-Request-Id")
	}
}

// The fourth association is a business failure: HTTP 200 with error_code,
// which the SDK returns as a response, not an error.
func TestSDKFourthAssociation(t *testing.T) {
	ts, _ := newStub(t)
	c := newSDK(t, ts.URL, demoAK, demoSK)
	create := func(ids ...string) (*model.CreateRelationsResponse, error) {
		return c.CreateRelations(&model.CreateRelationsRequest{
			CaseId: "DEMO-1",
			Body:   &model.CreateRelationsReq{RelatedIdList: ids, GroupId: ptr("team")},
		})
	}
	if _, err := create("DEMO-2", "DEMO-3", "DEMO-4"); err != nil {
		t.Fatal(err)
	}
	resp, err := create("DEMO-5")
	if err != nil {
		t.Fatalf("the SDK should return a business failure as a response, got %v", err)
	}
	if resp.ErrorCode == nil || *resp.ErrorCode != "OSM.01010043" {
		t.Fatalf("ErrorCode = %v, want OSM.01010043", resp.ErrorCode)
	}
	if resp.ErrorMsg == nil || *resp.ErrorMsg == "" {
		t.Error("no ErrorMsg")
	}
}

// A stub whose clock is 16 minutes ahead sees the SDK's signature as stale.
func TestSDKStaleSignature(t *testing.T) {
	srv, err := server.New(server.Options{Now: func() time.Time { return time.Now().Add(16 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := newSDK(t, ts.URL, demoAK, demoSK)
	_, err = c.ListRelation(&model.ListRelationRequest{CaseId: "DEMO-1"})
	var sre *sdkerr.ServiceResponseError
	if !errors.As(err, &sre) || sre.StatusCode != 401 || sre.ErrorCode != "APIGW.0301" || !strings.Contains(sre.ErrorMessage, "X-Sdk-Date") {
		t.Fatalf("err = %v, want 401 APIGW.0301 about X-Sdk-Date", err)
	}
}
