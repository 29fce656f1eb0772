package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	osm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/osm/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/osm/v2/model"

	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/storeopen"
)

// TestSDKTicketFlow drives the whole ticket flow with the official SDK's
// typed calls, against every store the stub has: what a user's integration
// test does, checked field by field.
func TestSDKTicketFlow(t *testing.T) {
	stores := []struct {
		name string
		spec func(t *testing.T) string // a storeopen spec
	}{
		{"memory", func(*testing.T) string { return "memory" }},
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "stub.db") }},
		// pgtest.Schema skips the subtest without OSM_STUB_TEST_POSTGRES.
		{"postgres", func(t *testing.T) string { return pgtest.Schema(t) }},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			st, err := storeopen.Open(context.Background(), s.spec(t))
			if err != nil {
				t.Fatal(err)
			}
			f := newFlow(t, st)
			f.run(t)
		})
	}
}

// bodyTap keeps the body of the last response, for the refusals of
// operations whose SDK response model has no error_code field (CreateCases,
// ShowCaseDetail): the SDK drops the field, so only the wire shows it.
type bodyTap struct {
	next http.Handler
	mu   sync.Mutex
	last []byte
}

type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (b *bodyTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &teeWriter{ResponseWriter: w}
	b.next.ServeHTTP(tw, r)
	b.mu.Lock()
	b.last = tw.buf.Bytes()
	b.mu.Unlock()
}

// lastRefusal is the error_code of the last response body, "" if none.
func (b *bodyTap) lastRefusal(t *testing.T) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var v struct {
		ErrorCode string `json:"error_code"`
	}
	if err := json.Unmarshal(b.last, &v); err != nil {
		t.Fatalf("last response body %q: %v", b.last, err)
	}
	return v.ErrorCode
}

// flow is one stub on one store, with the demo user's SDK client.
type flow struct {
	srv *server.Server
	ts  *httptest.Server
	tap *bodyTap
	c   *osm.OsmClient
}

func newFlow(t *testing.T, st store.Store) *flow {
	t.Helper()
	// A stopped clock near the real time: the stub dates tickets with it,
	// and checks the SDK's X-Sdk-Date against it (15 minutes either way).
	base := time.Now().UTC().Truncate(time.Second)
	srv, err := server.New(server.Options{Store: st, Now: func() time.Time { return base }})
	if err != nil {
		_ = st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	tap := &bodyTap{next: srv}
	ts := httptest.NewServer(tap)
	t.Cleanup(ts.Close)
	return &flow{srv: srv, ts: ts, tap: tap, c: newSDK(t, ts.URL, demoAK, demoSK)}
}

// noRefusal fails t if a 200 answer carries an error_code.
func noRefusal(t *testing.T, what string, code, msg *string) {
	t.Helper()
	if code != nil && *code != "" {
		t.Fatalf("%s: refused %s %s", what, *code, deref(msg))
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// wantRefusal checks a 200 answer's error_code.
func wantRefusal(t *testing.T, what string, code, msg *string, err error, want string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v; want a 200 with %s", what, err, want)
	}
	if deref(code) != want || deref(msg) == "" {
		t.Errorf("%s: error_code %q, error_msg %q; want %s with a message", what, deref(code), deref(msg), want)
	}
}

func (f *flow) run(t *testing.T) {
	ctx := context.Background()
	c := f.c

	// Before anything: the demo user's own tickets of the demo data.
	before := f.listAll(t, c, &model.ListCasesRequest{})
	if len(before) < 2 {
		t.Fatalf("the demo user has %d tickets, want 2 or more to page past", len(before))
	}

	// 1. Catalogues.
	cats, err := c.ListProductCategories(&model.ListProductCategoriesRequest{})
	if err != nil {
		t.Fatalf("ListProductCategories: %v", err)
	}
	if cats.IncidentProductCategoryList == nil || len(*cats.IncidentProductCategoryList) == 0 ||
		int(deref(cats.TotalCount)) != len(*cats.IncidentProductCategoryList) {
		t.Fatalf("ListProductCategories = %v; want a non-empty list and its total_count", cats)
	}
	var category string
	for _, p := range *cats.IncidentProductCategoryList {
		if deref(p.IncidentProductCategoryId) == "" || deref(p.IncidentProductCategoryName) == "" {
			t.Errorf("product category without id or name: %v", p)
		}
		if deref(p.IncidentProductCategoryId) == "ECS" {
			category = "ECS"
		}
	}
	if category == "" {
		t.Fatalf("ListProductCategories has no ECS: %v", cats)
	}
	types, err := c.ListProblemTypes(&model.ListProblemTypesRequest{ProductCategoryId: &category})
	if err != nil {
		t.Fatalf("ListProblemTypes: %v", err)
	}
	if types.IncidentBusinessTypeList == nil || len(*types.IncidentBusinessTypeList) == 0 ||
		int(deref(types.TotalCount)) != len(*types.IncidentBusinessTypeList) {
		t.Fatalf("ListProblemTypes(%s) = %v; want a non-empty list and its total_count", category, types)
	}
	var fault, consult model.SimpleIncidentBusinessTypeV2
	for _, p := range *types.IncidentBusinessTypeList {
		switch deref(p.CaseType) {
		case "5":
			fault = p
		case "0":
			consult = p
		default:
			t.Errorf("problem type %s: case_type %q, want \"0\" or \"5\"", deref(p.BusinessTypeId), deref(p.CaseType))
		}
		if deref(p.BusinessTypeId) == "BILL-QUESTION" {
			t.Errorf("ListProblemTypes(%s) lists BILLING's problem type BILL-QUESTION", category)
		}
	}
	if fault.BusinessTypeId == nil || consult.BusinessTypeId == nil {
		t.Fatalf("ListProblemTypes(%s) = %v; want a fault type (5) and a consultation (0)", category, types)
	}

	// 2. An attachment for the new ticket.
	logData := []byte("2026-12-07T03:00:00Z sshd: connection refused\n")
	up, err := c.UploadJsonAccessories(&model.UploadJsonAccessoriesRequest{Body: &model.AccessoryJsonFormatReq{
		AccessoryName: "boot.log",
		AccessoryFrom: model.GetAccessoryJsonFormatReqAccessoryFromEnum().INCIDENT,
		AccessoryData: base64.StdEncoding.EncodeToString(logData),
	}})
	if err != nil {
		t.Fatalf("UploadJsonAccessories: %v", err)
	}
	incidentAcc := deref(up.AccessoryId)
	if !matches(incidentAcc, "ACC", 6) {
		t.Fatalf("UploadJsonAccessories: accessory_id %q, want ACC and 6 digits", incidentAcc)
	}

	// 3. A fault report: region_id is required, then the ticket is created.
	body := &model.CreateOrderIncidentV2Req{
		BusinessTypeId: *fault.BusinessTypeId, ProductCategoryId: &category,
		SimpleDescription: "Instance unreachable since the resize", SourceId: store.SourceID,
		AccessoryIds: &[]string{incidentAcc},
	}
	noRegion, err := c.CreateCases(&model.CreateCasesRequest{Body: body})
	if err != nil || noRegion.IncidentId != nil {
		t.Fatalf("CreateCases without region_id = %v, %v; want a 200 refusal", noRegion, err)
	}
	if code := f.tap.lastRefusal(t); code != "OSM.01010001" {
		t.Errorf("CreateCases of a fault report without region_id: error_code %q, want OSM.01010001", code)
	}
	body.RegionId = ptr("cn-south-1")
	first := f.create(t, c, body)
	detail := f.detail(t, c, first)
	created := f.srv.Now()
	if got := time.Time(*detail.CreateTime); !got.Equal(created) {
		t.Errorf("ShowCaseDetail create_time %v, want the stub's clock %v", got, created)
	}
	if detail.Status != 0 || deref(detail.IncidentId) != first || detail.SimpleDescription != body.SimpleDescription ||
		detail.BusinessTypeName != deref(fault.BusinessTypeName) || detail.DcName != "cn-south-1" ||
		deref(detail.XcustomerId) != "demo" || len(detail.MessageList) != 1 || deref(detail.MessageList[0].Content) != body.SimpleDescription {
		t.Errorf("ShowCaseDetail(%s) = %v", first, detail)
	}

	// 4.
	f.wantStatus(t, c, first, 0)

	// 5. Twelve more, a second apart, then pages of 5.
	var twelve []string
	for i := range 12 {
		f.srv.Advance(time.Second)
		twelve = append(twelve, f.create(t, c, &model.CreateOrderIncidentV2Req{
			BusinessTypeId: *consult.BusinessTypeId, SimpleDescription: fmt.Sprintf("flow ticket %02d", i), SourceId: store.SourceID,
		}))
	}
	var paged []model.IncidentInfoV2
	for _, offset := range []int32{0, 5, 10} {
		resp, err := c.ListCases(&model.ListCasesRequest{Offset: ptr(offset), Limit: ptr(int32(5))})
		if err != nil {
			t.Fatalf("ListCases offset %d: %v", offset, err)
		}
		if want := len(before) + 13; int(deref(resp.TotalCount)) != want {
			t.Errorf("ListCases offset %d: total_count %d, want %d", offset, deref(resp.TotalCount), want)
		}
		if resp.IncidentInfoList == nil || len(*resp.IncidentInfoList) != 5 {
			t.Fatalf("ListCases offset %d: %v, want 5 tickets", offset, resp.IncidentInfoList)
		}
		paged = append(paged, *resp.IncidentInfoList...)
	}
	var ids []string
	for i, p := range paged {
		ids = append(ids, p.IncidentId)
		if i > 0 && time.Time(*p.CreateTime).After(time.Time(*paged[i-1].CreateTime)) {
			t.Errorf("ListCases: %s (%v) after the older %s (%v)", p.IncidentId, p.CreateTime, paged[i-1].IncidentId, paged[i-1].CreateTime)
		}
	}
	want := slices.Clone(twelve)
	slices.Reverse(want)
	want = append(want, first, before[0].IncidentId, before[1].IncidentId)
	if !slices.Equal(ids, want) {
		t.Errorf("ListCases pages of 5 = %v\nwant %v", ids, want)
	}
	byID, err := c.ListCases(&model.ListCasesRequest{IncidentId: &twelve[3]})
	if err != nil || deref(byID.TotalCount) != 1 || len(deref(byID.IncidentInfoList)) != 1 ||
		(*byID.IncidentInfoList)[0].IncidentId != twelve[3] || (*byID.IncidentInfoList)[0].SimpleDescription != "flow ticket 03" {
		t.Errorf("ListCases incident_id=%s = %v, %v", twelve[3], byID, err)
	}
	if err := store.SetStatus(ctx, f.srv.Store(), twelve[5], store.StatusProcessing); err != nil {
		t.Fatal(err)
	}
	processing := f.listAll(t, c, &model.ListCasesRequest{Status: ptr(int32(store.StatusProcessing))})
	pending := f.listAll(t, c, &model.ListCasesRequest{Status: ptr(int32(store.StatusPending))})
	for _, l := range []struct {
		status int32
		list   []model.IncidentInfoV2
		has    string
		hasNot string
	}{{store.StatusProcessing, processing, twelve[5], twelve[4]}, {store.StatusPending, pending, twelve[4], twelve[5]}} {
		var got []string
		for _, p := range l.list {
			got = append(got, p.IncidentId)
			if p.Status != l.status {
				t.Errorf("ListCases status=%d lists %s in status %d", l.status, p.IncidentId, p.Status)
			}
		}
		if !slices.Contains(got, l.has) || slices.Contains(got, l.hasNot) {
			t.Errorf("ListCases status=%d = %v; want %s in it, not %s", l.status, got, l.has, l.hasNot)
		}
	}

	// 6. A message with an attachment.
	f.srv.Advance(time.Second)
	up, err = c.UploadJsonAccessories(&model.UploadJsonAccessoriesRequest{Body: &model.AccessoryJsonFormatReq{
		AccessoryName: "trace.txt",
		AccessoryFrom: model.GetAccessoryJsonFormatReqAccessoryFromEnum().MESSAGE,
		AccessoryData: base64.StdEncoding.EncodeToString([]byte("traceroute: 10 hops, timeout at 7")),
	}})
	if err != nil {
		t.Fatalf("UploadJsonAccessories (message): %v", err)
	}
	msgAcc := deref(up.AccessoryId)
	if !matches(msgAcc, "ACC", 6) || msgAcc == incidentAcc {
		t.Fatalf("UploadJsonAccessories (message): accessory_id %q, want a new ACC id", msgAcc)
	}
	const content = "Traceroute attached"
	msg, err := c.CreateMessages(&model.CreateMessagesRequest{CaseId: first, Body: &model.CreateMessageV2Req{
		Message: &model.CreateMessageDoV2{Content: content, AccessoryIds: &[]string{msgAcc}},
	}})
	if err != nil {
		t.Fatalf("CreateMessages: %v", err)
	}
	noRefusal(t, "CreateMessages", msg.ErrorCode, msg.ErrorMsg)
	msgs, err := c.ListMessages(&model.ListMessagesRequest{CaseId: first})
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	// The description is the first message, then ours.
	if deref(msgs.Count) != 2 || len(deref(msgs.MessageList)) != 2 || deref((*msgs.MessageList)[0].IsFirstMessage) != 1 {
		t.Fatalf("ListMessages(%s) = %v; want the description and the message", first, msgs)
	}
	m := (*msgs.MessageList)[1]
	if deref(m.Content) != content || deref(m.Type) != 0 || deref(m.Replier) != "demo" || deref(m.IsFirstMessage) != 0 ||
		m.CreateTime == nil || !time.Time(*m.CreateTime).Equal(f.srv.Now()) {
		t.Errorf("ListMessages(%s) message = %+v", first, m)
	}
	if acc := deref(m.AccessoryList); len(acc) != 1 || deref(acc[0].AccessoryId) != msgAcc || deref(acc[0].FileActualName) != "trace.txt" {
		t.Errorf("ListMessages(%s) accessory_list = %v; want %s trace.txt", first, acc, msgAcc)
	}
	detail = f.detail(t, c, first)
	if len(detail.MessageList) != 2 {
		t.Fatalf("ShowCaseDetail(%s) message_list = %v; want the description and the message", first, detail.MessageList)
	}
	dm := detail.MessageList[1]
	if deref(dm.Content) != content || deref(dm.MessageId) != store.MessageID(first, 2) || deref(dm.Replier) != "demo" {
		t.Errorf("ShowCaseDetail(%s) message = %+v", first, dm)
	}
	if acc := deref(dm.AccessoryList); len(acc) != 1 || deref(acc[0].AccessoryId) != msgAcc || deref(acc[0].FileActualName) != "trace.txt" {
		t.Errorf("ShowCaseDetail(%s) message accessory_list = %v; want %s trace.txt", first, acc, msgAcc)
	}

	// 7. Tickets created through the API relate like fixtures.
	rel, err := c.CreateRelations(&model.CreateRelationsRequest{CaseId: first, Body: &model.CreateRelationsReq{RelatedIdList: []string{twelve[0]}}})
	if err != nil {
		t.Fatalf("CreateRelations: %v", err)
	}
	noRefusal(t, "CreateRelations", rel.ErrorCode, rel.ErrorMsg)
	for _, pair := range [][2]string{{first, twelve[0]}, {twelve[0], first}} {
		listed, err := c.ListRelation(&model.ListRelationRequest{CaseId: pair[0]})
		if err != nil {
			t.Fatalf("ListRelation(%s): %v", pair[0], err)
		}
		if l := deref(listed.CaseRelationList); len(l) != 1 || deref(l[0].CaseId) != pair[1] || deref(l[0].UserName) != "demo" {
			t.Errorf("ListRelation(%s) = %v; want %s of demo", pair[0], l, pair[1])
		}
	}

	// 8. Cancel, and an action the service does not have.
	canceled, err := c.UpdateCases(&model.UpdateCasesRequest{CaseId: twelve[1], ActionId: "cancel", Body: &model.WorkOrderOperateV2Req{}})
	if err != nil {
		t.Fatalf("UpdateCases cancel: %v", err)
	}
	noRefusal(t, "UpdateCases cancel", canceled.ErrorCode, canceled.ErrorMsg)
	f.wantStatus(t, c, twelve[1], store.StatusCanceled)
	unknown, err := c.UpdateCases(&model.UpdateCasesRequest{CaseId: twelve[2], ActionId: "archive", Body: &model.WorkOrderOperateV2Req{}})
	wantRefusal(t, "UpdateCases archive", unknown.ErrorCode, unknown.ErrorMsg, err, "OSM.01010013")
	f.wantStatus(t, c, twelve[2], store.StatusPending)

	// A score without satisfaction list: the SDK sends null.
	if err := store.SetStatus(ctx, f.srv.Store(), twelve[6], store.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	scored, err := c.CreateScores(&model.CreateScoresRequest{CaseId: twelve[6], Body: &model.CreateScoreV2Req{Judgement: "Solved quickly"}})
	if err != nil {
		t.Fatalf("CreateScores with a null incident_satisfaction_list: %v", err)
	}
	noRefusal(t, "CreateScores", scored.ErrorCode, scored.ErrorMsg)
	if d := f.detail(t, c, twelve[6]); d.Judgement != "Solved quickly" || len(d.IncidentSatisfaction) != 0 {
		t.Errorf("ShowCaseDetail(%s) after the score: judgement %q, incident_satisfaction %v", twelve[6], d.Judgement, d.IncidentSatisfaction)
	}

	// 9. A second account, made as POST /_stub/accounts makes one, sees
	// nothing of the first.
	acct, err := f.srv.CreateAccount(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := acct.Users[0].Keys[0]
	other := newSDKWith(t, f.ts.URL, sdkOptions{ak: key.AK, sk: key.SK, domain: acct.ID})
	if got := f.listAll(t, other, &model.ListCasesRequest{}); len(got) != 0 {
		t.Errorf("ListCases of a fresh account = %v; want none", got)
	}
	foreign, err := other.ShowCaseDetail(&model.ShowCaseDetailRequest{CaseId: first})
	if err != nil || foreign.IncidentDetailInfo != nil {
		t.Fatalf("ShowCaseDetail of another account's ticket = %v, %v; want a 200 refusal", foreign, err)
	}
	if code := f.tap.lastRefusal(t); code != "OSM.01010015" {
		t.Errorf("ShowCaseDetail of another account's ticket: error_code %q, want OSM.01010015", code)
	}
	own := f.create(t, other, &model.CreateOrderIncidentV2Req{
		BusinessTypeId: *consult.BusinessTypeId, SimpleDescription: "second account's ticket", SourceId: store.SourceID,
	})
	if slices.Contains(ids, own) {
		t.Errorf("the second account's ticket %s has an ID of the first's", own)
	}
	cross, err := other.CreateRelations(&model.CreateRelationsRequest{CaseId: own, Body: &model.CreateRelationsReq{RelatedIdList: []string{first}}})
	wantRefusal(t, "CreateRelations to another account's ticket", cross.ErrorCode, cross.ErrorMsg, err, "OSM.01010015")
	if got := f.listAll(t, other, &model.ListCasesRequest{}); len(got) != 1 || got[0].IncidentId != own {
		t.Errorf("ListCases of the second account = %v; want only %s", got, own)
	}
	if got := f.listAll(t, c, &model.ListCasesRequest{IncidentId: &own}); len(got) != 0 {
		t.Errorf("ListCases incident_id=%s by the first account = %v; want none", own, got)
	}
}

// create opens a ticket and returns its ID, which must be CS, the stub's
// date and a 6-digit sequence.
func (f *flow) create(t *testing.T, c *osm.OsmClient, body *model.CreateOrderIncidentV2Req) string {
	t.Helper()
	resp, err := c.CreateCases(&model.CreateCasesRequest{Body: body})
	if err != nil {
		t.Fatalf("CreateCases: %v", err)
	}
	id := deref(resp.IncidentId)
	if prefix := "CS" + f.srv.Now().UTC().Format("20060102"); !matches(id, prefix, 6) {
		t.Fatalf("CreateCases: incident_id %q, want %s and 6 digits (body %s)", id, prefix, f.tap.last)
	}
	return id
}

func (f *flow) detail(t *testing.T, c *osm.OsmClient, id string) *model.IncidentDetailInfoV2 {
	t.Helper()
	resp, err := c.ShowCaseDetail(&model.ShowCaseDetailRequest{CaseId: id})
	if err != nil {
		t.Fatalf("ShowCaseDetail(%s): %v", id, err)
	}
	d := resp.IncidentDetailInfo
	if d == nil || d.CreateTime == nil {
		t.Fatalf("ShowCaseDetail(%s) = %v (body %s); want a detail with create_time", id, resp, f.tap.last)
	}
	return d
}

func (f *flow) wantStatus(t *testing.T, c *osm.OsmClient, id string, want int32) {
	t.Helper()
	resp, err := c.ShowCaseStatus(&model.ShowCaseStatusRequest{CaseId: id})
	if err != nil {
		t.Fatalf("ShowCaseStatus(%s): %v", id, err)
	}
	if resp.Status == nil || *resp.Status != want {
		t.Errorf("ShowCaseStatus(%s): body %s, want status %d", id, f.tap.last, want)
	}
}

// listAll pages through ListCases with q's filters, 100 at a time, and
// checks total_count against what the pages hold.
func (f *flow) listAll(t *testing.T, c *osm.OsmClient, q *model.ListCasesRequest) []model.IncidentInfoV2 {
	t.Helper()
	var all []model.IncidentInfoV2
	for {
		q.Offset, q.Limit = ptr(int32(len(all))), ptr(int32(100))
		resp, err := c.ListCases(q)
		if err != nil {
			t.Fatalf("ListCases: %v", err)
		}
		if resp.TotalCount == nil || resp.IncidentInfoList == nil {
			t.Fatalf("ListCases = %v (body %s); want total_count and a list", resp, f.tap.last)
		}
		page := *resp.IncidentInfoList
		all = append(all, page...)
		if len(page) == 0 || len(all) >= int(*resp.TotalCount) {
			if len(all) != int(*resp.TotalCount) {
				t.Fatalf("ListCases: %d tickets in the pages, total_count %d", len(all), *resp.TotalCount)
			}
			return all
		}
	}
}

// matches reports whether id is prefix and n digits.
func matches(id, prefix string, n int) bool {
	if len(id) != len(prefix)+n || id[:len(prefix)] != prefix {
		return false
	}
	for _, r := range id[len(prefix):] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
