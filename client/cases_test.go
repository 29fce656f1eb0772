package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
)

// Group 8: the ticket flow against scripted answers: decoding, error
// classes, retries, iterators' errors.

// flowOps are the ticket flow's calls, each with a valid argument.
var flowOps = []struct {
	name   string
	writes bool // changes state: never retried once the request may have arrived
	call   func(context.Context, *client.Client) error
}{
	{"ListProductCategories", false, func(ctx context.Context, c *client.Client) error {
		_, err := c.ListProductCategories(ctx, "")
		return err
	}},
	{"ListProblemTypes", false, func(ctx context.Context, c *client.Client) error {
		_, err := c.ListProblemTypes(ctx, "ECS")
		return err
	}},
	{"CreateCases", true, func(ctx context.Context, c *client.Client) error {
		_, err := c.CreateCase(ctx, client.NewCase{ProblemTypeID: "QUOTA", Description: "more"})
		return err
	}},
	{"ShowCaseDetail", false, func(ctx context.Context, c *client.Client) error { _, err := c.ShowCase(ctx, "CS1", "g"); return err }},
	{"ShowCaseStatus", false, func(ctx context.Context, c *client.Client) error { _, err := c.CaseStatus(ctx, "CS1"); return err }},
	{"ListCases", false, func(ctx context.Context, c *client.Client) error {
		_, _, err := c.ListCases(ctx, client.ListCasesOptions{})
		return err
	}},
	{"UpdateCases", true, func(ctx context.Context, c *client.Client) error {
		return c.UpdateCase(ctx, "CS1", client.ActionCancel, client.UpdateOptions{})
	}},
	{"CreateMessages", true, func(ctx context.Context, c *client.Client) error {
		return c.CreateMessage(ctx, "CS1", client.NewMessage{Content: "hi"})
	}},
	{"ListMessages", false, func(ctx context.Context, c *client.Client) error {
		_, _, err := c.ListMessages(ctx, "CS1", client.ListMessagesOptions{})
		return err
	}},
	{"UploadJsonAccessories", true, func(ctx context.Context, c *client.Client) error {
		_, err := c.UploadAttachment(ctx, "a.log", client.AttachmentForMessage, []byte("x"))
		return err
	}},
	{"ShowAccessoryLimits", false, func(ctx context.Context, c *client.Client) error { _, err := c.AttachmentLimits(ctx); return err }},
	{"CreateScores", true, func(ctx context.Context, c *client.Client) error { return c.CreateScore(ctx, "CS1", client.Score{}) }},
}

// Reads are retried on every transient failure; creates and actions only
// where the request cannot have reached the service, even with
// RetryUnsafe.
func TestFlowRetries(t *testing.T) {
	for _, unsafe := range []bool{false, true} {
		policy := testPolicy
		policy.RetryUnsafe = unsafe
		for _, op := range flowOps {
			for _, f := range failures {
				name := fmt.Sprintf("%s %s RetryUnsafe=%v", op.name, f.name, unsafe)
				s := newScripted(t, failingSteps(f, policy.MaxAttempts)...)
				ft := newFakeTime()
				c := s.newClient(t, append(ft.options(), client.WithRetry(policy))...)
				err := op.call(context.Background(), c)
				// 502 may come after the service acted: only reads and
				// the idempotent relation calls repeat it.
				preService := f.status == 429 || f.status == 503
				want := 1
				if !op.writes || preService {
					want = policy.MaxAttempts
				}
				if s.Count() != want {
					t.Errorf("%s: %d attempts, want %d", name, s.Count(), want)
				}
				checkFinalError(t, name, err, f, s.Count())
			}
		}
	}
}

// A write is retried when the connection was never established.
func TestFlowWritesRetryNeverConnected(t *testing.T) {
	for _, op := range flowOps {
		if !op.writes {
			continue
		}
		ct := &countingTransport{next: http.DefaultTransport}
		ft := newFakeTime()
		c, err := client.New("http://"+closedAddr(t), append(ft.options(), client.WithToken("tok"),
			client.WithHTTPClient(&http.Client{Transport: ct}), client.WithRetry(testPolicy))...)
		if err != nil {
			t.Fatal(err)
		}
		err = op.call(context.Background(), c)
		var urlErr *url.Error
		if !errors.As(err, &urlErr) || ct.n.Load() != int64(testPolicy.MaxAttempts) {
			t.Errorf("%s: %d attempts, err %v; want %d and a transport error", op.name, ct.n.Load(), err, testPolicy.MaxAttempts)
		}
	}
}

// Every call turns a 200 with error_code into an *APIError named after its
// operation, and a business code with a sentinel matches it.
func TestFlowRefusals(t *testing.T) {
	codes := []struct {
		code     string
		sentinel error
		class    error
	}{
		{client.CodeParamInvalid, client.ErrInvalidParam, client.ErrRuleViolation},
		{client.CodePressTooSoon, client.ErrPressTooSoon, client.ErrRuleViolation},
		{client.CodeUploadBudget, client.ErrUploadBudget, client.ErrRuleViolation},
		{client.CodeUnknownAction, client.ErrUnknownAction, client.ErrRuleViolation},
		{client.CodeUnknownTicket, client.ErrUnknownTicket, client.ErrRuleViolation},
		{client.CodeLimit, nil, client.ErrRuleViolation},
		{"OSM.01010099", nil, client.ErrRuleViolation},
		{client.CodeNoPermission, nil, client.ErrForbidden},
	}
	for _, op := range flowOps {
		for _, tc := range codes {
			s := newScripted(t, respond(http.StatusOK, `{"error_code":"`+tc.code+`","error_msg":"refused"}`))
			err := op.call(context.Background(), s.newClient(t))
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.Operation != op.name || apiErr.Code != tc.code || apiErr.Message != "refused" {
				t.Errorf("%s %s: err = %v", op.name, tc.code, err)
				continue
			}
			if !errors.Is(err, tc.class) {
				t.Errorf("%s %s: not %v", op.name, tc.code, tc.class)
			}
			for _, other := range ruleSentinels {
				if got := errors.Is(err, other); got != (other == tc.sentinel) {
					t.Errorf("%s %s: errors.Is(err, %v) = %v", op.name, tc.code, other, got)
				}
			}
			if s.Count() != 1 {
				t.Errorf("%s %s: %d requests, want 1", op.name, tc.code, s.Count())
			}
		}
	}
	// A 4xx is classed as before, and matches no rule's sentinel.
	s := newScripted(t, respond(http.StatusBadRequest, `{"error_code":"OSM.0001","error_msg":"limit: must be at most 100"}`))
	_, _, err := s.newClient(t).ListCases(context.Background(), client.ListCasesOptions{})
	if !errors.Is(err, client.ErrValidation) || errors.Is(err, client.ErrInvalidParam) {
		t.Errorf("400: err = %v, want ErrValidation only", err)
	}
}

// A 200 that is not the contract's success (a value missing, a time or a
// number in the wrong form) is an error, never a zero value.
func TestFlowMalformedSuccess(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		body string
		call func(*client.Client) error
	}{
		{"CreateCases without incident_id", `{}`, func(c *client.Client) error {
			_, err := c.CreateCase(ctx, client.NewCase{ProblemTypeID: "Q", Description: "d"})
			return err
		}},
		{"ShowCaseDetail without the ticket", `{}`, func(c *client.Client) error { _, err := c.ShowCase(ctx, "CS1", ""); return err }},
		{"ShowCaseDetail with a numeric time", `{"incident_detail_info":{"create_time":1765099800}}`, func(c *client.Client) error {
			_, err := c.ShowCase(ctx, "CS1", "")
			return err
		}},
		{"ShowCaseDetail with a message time of another layout", `{"incident_detail_info":{"create_time":"2026-12-07T09:30:00Z","message_list":[{"create_time":"2026-12-07 09:30:00"}]}}`, func(c *client.Client) error {
			_, err := c.ShowCase(ctx, "CS1", "")
			return err
		}},
		{"ShowCaseStatus without status", `{}`, func(c *client.Client) error { _, err := c.CaseStatus(ctx, "CS1"); return err }},
		{"ListCases with a time of another zone", `{"total_count":1,"incident_info_list":[{"incident_id":"CS1","create_time":"2026-12-07T09:30:00+08:00"}]}`, func(c *client.Client) error {
			_, _, err := c.ListCases(ctx, client.ListCasesOptions{})
			return err
		}},
		{"ListMessages without a time", `{"count":1,"message_list":[{"content":"x"}]}`, func(c *client.Client) error {
			_, _, err := c.ListMessages(ctx, "CS1", client.ListMessagesOptions{})
			return err
		}},
		{"UploadJsonAccessories without accessory_id", `{}`, func(c *client.Client) error {
			_, err := c.UploadAttachment(ctx, "a.txt", client.AttachmentForCase, []byte("x"))
			return err
		}},
		{"ShowAccessoryLimits without limits", `{}`, func(c *client.Client) error { _, err := c.AttachmentLimits(ctx); return err }},
		{"ShowAccessoryLimits with a word for a number", `{"accessory_limit":{"limit_count":"five","limit_size":"4","limit_file_type":"txt"}}`, func(c *client.Client) error {
			_, err := c.AttachmentLimits(ctx)
			return err
		}},
		{"ShowAccessoryLimits with numbers", `{"accessory_limit":{"limit_count":5,"limit_size":4,"limit_file_type":"txt"}}`, func(c *client.Client) error {
			_, err := c.AttachmentLimits(ctx)
			return err
		}},
	}
	for _, tc := range tests {
		s := newScripted(t, respond(http.StatusOK, tc.body))
		err := tc.call(s.newClient(t))
		var apiErr *client.APIError
		if err == nil || errors.As(err, &apiErr) || !strings.Contains(err.Error(), "osm ") {
			t.Errorf("%s: err = %v, want a decoding error", tc.name, err)
		}
	}
}

func TestFlowDecodes(t *testing.T) {
	ctx := context.Background()
	s := newScripted(t, respond(http.StatusOK, `{"total_count":12,"incident_info_list":[{"incident_id":"CS20261206000001","status":17,
		"simple_description":"RDS failed over","business_type_name":"Database failover or crash","incident_type_name":"Fault report",
		"product_category_name":"Relational Database Service","customer_id":"acme","xcustomer_id":"u1","xcustomer_name":"User One",
		"dc_name":"cn-south-1","create_time":"2026-12-06T08:00:00Z"}]}`))
	got, total, err := s.newClient(t).ListCases(ctx, client.ListCasesOptions{})
	want := client.Case{ID: "CS20261206000001", Status: client.StatusAwaitingFeedback, Description: "RDS failed over",
		ProblemType: "Database failover or crash", Kind: "Fault report", ProductCategory: "Relational Database Service", Account: "acme",
		Creator: "u1", CreatorName: "User One", Region: "cn-south-1", Created: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	if err != nil || total != 12 || len(got) != 1 || got[0] != want {
		t.Errorf("ListCases = %+v, %d, %v; want %+v, 12", got, total, err, want)
	}

	s = newScripted(t, respond(http.StatusOK, `{"accessory_limit":{"limit_count":"5","limit_size":"4","limit_file_type":"jpg, PNG,,log"}}`))
	lim, err := s.newClient(t).AttachmentLimits(ctx)
	if wantLim := (client.AttachmentLimits{Count: 5, SizeMB: 4, Types: []string{"jpg", "png", "log"}}); err != nil || !reflect.DeepEqual(lim, wantLim) {
		t.Errorf("AttachmentLimits = %+v, %v; want %+v", lim, err, wantLim)
	}

	for _, body := range []string{`{}`, `{"incident_info_list":[]}`} {
		s := newScripted(t, respond(http.StatusOK, body))
		got, total, err := s.newClient(t).ListCases(ctx, client.ListCasesOptions{})
		if err != nil || got == nil || len(got) != 0 || total != 0 {
			t.Errorf("200 %s: %#v, %d, %v; want an empty, non-nil page", body, got, total, err)
		}
	}

	for s, want := range map[client.Status]string{client.StatusPending: "pending", client.StatusAwaitingFeedback: "awaiting feedback", client.Status(99): "status 99"} {
		if s.String() != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(s), s.String(), want)
		}
	}
}

// What goes on the wire: the parameters and bodies the contract names.
func TestFlowRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		body  string // the scripted answer
		call  func(*client.Client) error
		path  string // with the query, as sent
		req   string // the JSON body, "" for none
		hdr   map[string]string
		query map[string][]string // checked instead of the path's query when set
	}{
		{"ListCases, every filter", `{}`, func(c *client.Client) error {
			_, _, err := c.ListCases(ctx, client.ListCasesOptions{Group: "g", CaseID: "CS1", Statuses: []client.Status{0, 17},
				SearchKeys: []string{"a b", "c"}, From: time.Date(2026, 12, 7, 17, 30, 0, 0, time.FixedZone("GMT+8", 8*3600)),
				To: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC), PageSize: 20, Offset: 40})
			return err
		}, "/v2/servicerequest/cases", "", nil, map[string][]string{
			"group_id": {"g"}, "incident_id": {"CS1"}, "incident_status": {"0,17"}, "search_key": {"a b", "c"},
			"query_start_time": {"2026-12-07T09:30:00Z"}, "query_end_time": {"2026-12-08T00:00:00Z"}, "limit": {"20"}, "offset": {"40"},
		}},
		{"ListCases, defaults", `{}`, func(c *client.Client) error {
			_, _, err := c.ListCases(ctx, client.ListCasesOptions{Statuses: []client.Status{client.StatusProcessing}})
			return err
		}, "/v2/servicerequest/cases", "", nil, map[string][]string{"status": {"1"}, "limit": {"10"}, "offset": {"0"}}},
		{"ListMessages", `{}`, func(c *client.Client) error {
			_, _, err := c.ListMessages(ctx, "CS1", client.ListMessagesOptions{Group: "g", PageSize: 5, Offset: 5})
			return err
		}, "/v2/servicerequest/cases/CS1/messages", "", nil, map[string][]string{"group_id": {"g"}, "limit": {"5"}, "offset": {"5"}}},
		{"CreateCase", `{"incident_id":"CS2"}`, func(c *client.Client) error {
			_, err := c.CreateCase(ctx, client.NewCase{ProblemTypeID: "ECS-FAULT", ProductCategoryID: "ECS", Description: "d", RegionID: "r",
				AttachmentIDs: []string{"ACC1"}, PhoneVerifiedID: "pv"})
			return err
		}, "/v2/servicerequest/cases",
			`{"accessory_ids":["ACC1"],"business_type_id":"ECS-FAULT","product_category_id":"ECS","region_id":"r","simple_description":"d","source_id":"83aeb0f2834c4df49826c781d32a963e"}`,
			map[string]string{"X-Phone-Verifiedid": "pv"}, nil},
		{"UpdateCase", `{}`, func(c *client.Client) error {
			return c.UpdateCase(ctx, "CS1", client.ActionClose, client.UpdateOptions{Group: "g", Reason: "why", Judgement: "good", Satisfaction: []client.Satisfaction{{Dimension: 1, Value: 5}}})
		}, "/v2/servicerequest/cases/CS1/action?action_id=close",
			`{"group_id":"g","incident_satisfaction_list":[{"satisfaction_id":1,"satisfaction_value":5}],"judgement":"good","operate_desc":"why"}`, nil, nil},
		{"UpdateCase without options", `{}`, func(c *client.Client) error {
			return c.UpdateCase(ctx, "CS1", client.ActionPress, client.UpdateOptions{})
		}, "/v2/servicerequest/cases/CS1/action?action_id=press", `{}`, nil, nil},
		{"CreateMessage", `{}`, func(c *client.Client) error {
			return c.CreateMessage(ctx, "CS1", client.NewMessage{Content: "hi", AttachmentIDs: []string{"ACC1"}, Group: "g"})
		}, "/v2/servicerequest/cases/CS1/message", `{"group_id":"g","message":{"accessory_ids":["ACC1"],"content":"hi"}}`, nil, nil},
		{"CreateScore without values", `{}`, func(c *client.Client) error {
			return c.CreateScore(ctx, "CS1", client.Score{Judgement: "ok"})
		}, "/v2/servicerequest/cases/CS1/score", `{"incident_satisfaction_list":[],"judgement":"ok"}`, nil, nil},
		{"UploadAttachment", `{"accessory_id":"ACC1"}`, func(c *client.Client) error {
			_, err := c.UploadAttachment(ctx, "a.log", client.AttachmentForMessage, []byte("\x00\xffhi"))
			return err
		}, "/v2/servicerequest/accessorys/json-format-content",
			`{"accessory_data":"` + base64.StdEncoding.EncodeToString([]byte("\x00\xffhi")) + `","accessory_from":"message","accessory_name":"a.log"}`, nil, nil},
		{"ListProductCategories", `{}`, func(c *client.Client) error { _, err := c.ListProductCategories(ctx, "data base"); return err },
			"/v2/servicerequest/config/product-categories?product_category_name=data+base", "", nil, nil},
		{"ShowCase", `{"incident_detail_info":{"create_time":"2026-12-07T09:30:00Z"}}`, func(c *client.Client) error { _, err := c.ShowCase(ctx, "CS1", ""); return err },
			"/v2/servicerequest/cases/CS1", "", nil, nil},
	}
	for _, tc := range tests {
		s := newScripted(t, respond(http.StatusOK, tc.body))
		if err := tc.call(s.newClient(t)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		r := s.Requests()[0]
		if tc.query != nil {
			if r.Req.URL.Path != tc.path || !reflect.DeepEqual(map[string][]string(r.Req.URL.Query()), tc.query) {
				t.Errorf("%s: %s ? %v, want %s ? %v", tc.name, r.Req.URL.Path, r.Req.URL.Query(), tc.path, tc.query)
			}
		} else if got := r.Req.URL.RequestURI(); got != tc.path {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.path)
		}
		if tc.req == "" {
			if len(r.Body) != 0 {
				t.Errorf("%s: body %s, want none", tc.name, r.Body)
			}
		} else if !jsonEqual(t, r.Body, []byte(tc.req)) {
			t.Errorf("%s: body %s, want %s", tc.name, r.Body, tc.req)
		}
		for k, v := range tc.hdr {
			if got := r.Req.Header.Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", tc.name, k, got, v)
			}
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Errorf("%s: %v", a, err)
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// A failure on a later page is yielded once, after the earlier pages'
// items, and ends the iteration.
func TestIteratorErrorAfterAPage(t *testing.T) {
	page := `{"total_count":4,"incident_info_list":[` +
		`{"incident_id":"CS4","create_time":"2026-12-07T09:30:00Z"},{"incident_id":"CS3","create_time":"2026-12-07T09:30:00Z"}]}`
	s := newScripted(t, respond(http.StatusOK, page), respond(http.StatusInternalServerError, `{"error_code":"OSM.0004","error_msg":"boom"}`))
	var ids []string
	var errs []error
	for cs, err := range s.newClient(t).Cases(context.Background(), client.ListCasesOptions{PageSize: 2}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, cs.ID)
	}
	if !reflect.DeepEqual(ids, []string{"CS4", "CS3"}) || len(errs) != 1 || !errors.Is(errs[0], client.ErrServer) || s.Count() != 2 {
		t.Errorf("items %v, errors %v, %d requests; want CS4 CS3, one ErrServer, 2 requests", ids, errs, s.Count())
	}
	reqs := s.Requests()
	if got := reqs[1].Req.URL.Query().Get("offset"); got != "2" {
		t.Errorf("second page at offset %s, want 2", got)
	}

	// A consumer that stops at the error ends the iteration as well.
	s = newScripted(t, respond(http.StatusOK, `{"error_code":"OSM.01010015","error_msg":"This case does not exist."}`))
	n := 0
	for _, err := range s.newClient(t).Messages(context.Background(), "CS1", client.ListMessagesOptions{}) {
		n++
		if !errors.Is(err, client.ErrUnknownTicket) {
			t.Errorf("err = %v, want ErrUnknownTicket", err)
		}
		break
	}
	if n != 1 || s.Count() != 1 {
		t.Errorf("%d yields, %d requests; want 1, 1", n, s.Count())
	}
}

// The service takes offsets up to MaxOffset: an iteration that would go
// past it yields an error instead of a request the contract refuses.
func TestIteratorStopsAtMaxOffset(t *testing.T) {
	var list []string
	for i := range 100 {
		list = append(list, fmt.Sprintf(`{"content":"m%d","create_time":"2026-12-07T09:30:00Z"}`, i))
	}
	s := newScripted(t, respond(http.StatusOK, `{"count":65535,"message_list":[`+strings.Join(list, ",")+`]}`))
	n := 0
	var errs []error
	for _, err := range s.newClient(t).Messages(context.Background(), "CS1", client.ListMessagesOptions{PageSize: 100, Offset: client.MaxOffset - 150}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if n != 200 || len(errs) != 1 || !errors.Is(errs[0], client.ErrValidation) || s.Count() != 2 {
		t.Errorf("%d items, errors %v, %d requests; want 200, one ErrValidation, 2", n, errs, s.Count())
	}
}
