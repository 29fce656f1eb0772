package client_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// Group 7: the ticket flow against the in-process stub, on a clock the
// test moves and a store the test can reach to play the support staff.

var flowEpoch = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

type stubClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stubClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stubClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type flow struct {
	*stubHarness
	st    store.Store
	clock *stubClock
	// The demo data's users, and a user of another account.
	demo, teammate, outsider, stranger *client.Client
}

func newFlow(t *testing.T) *flow {
	t.Helper()
	data := fixtures.Demo()
	data.Users = append(data.Users, store.User{Name: "stranger", Account: "acme", Tokens: []string{"stranger-token"}})
	f := &flow{st: memory.New(), clock: &stubClock{now: flowEpoch}}
	f.stubHarness = newStub(t, server.Options{Store: f.st, Fixtures: &data, Now: f.clock.Now})
	f.demo = f.newClient(t, client.WithToken(demoToken))
	f.teammate = f.newClient(t, client.WithToken("teammate-token"))
	f.outsider = f.newClient(t, client.WithToken(outsiderToken))
	f.stranger = f.newClient(t, client.WithToken("stranger-token"))
	return f
}

// open opens a consultation for c.
func (f *flow) open(t *testing.T, c *client.Client, desc string) string {
	t.Helper()
	id, err := c.CreateCase(context.Background(), client.NewCase{ProblemTypeID: "ECS-CONSULT", Description: desc})
	if err != nil {
		t.Fatalf("CreateCase(%q): %v", desc, err)
	}
	return id
}

// setStatus moves a ticket as the support staff would.
func (f *flow) setStatus(t *testing.T, id string, s client.Status) {
	t.Helper()
	if err := store.SetStatus(context.Background(), f.st, id, int(s)); err != nil {
		t.Fatalf("SetStatus(%s, %d): %v", id, s, err)
	}
}

// requests counts the requests the stub has received.
func (f *flow) requests() int {
	n, _ := f.Checked()
	return n
}

// ruleSentinels are the sentinels of single business codes.
var ruleSentinels = map[string]error{
	client.CodeParamInvalid:  client.ErrInvalidParam,
	client.CodePressTooSoon:  client.ErrPressTooSoon,
	client.CodeUploadBudget:  client.ErrUploadBudget,
	client.CodeUnknownAction: client.ErrUnknownAction,
	client.CodeUnknownTicket: client.ErrUnknownTicket,
}

// checkOutcome checks err against want: "" success, "arg" an
// *ArgumentError, else a 200 refusal with that code, of the sentinel of
// the code (if it has one) and of the code's class only.
func checkOutcome(t *testing.T, name string, err error, want string) {
	t.Helper()
	switch want {
	case "":
		if err != nil {
			t.Errorf("%s: %v, want success", name, err)
		}
		return
	case "arg":
		var argErr *client.ArgumentError
		if !errors.As(err, &argErr) || !errors.Is(err, client.ErrValidation) {
			t.Errorf("%s: err = %v, want an *ArgumentError", name, err)
		}
		return
	}
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusOK || apiErr.Code != want || apiErr.Message == "" {
		t.Errorf("%s: err = %v, want a 200 %s *APIError", name, err, want)
		return
	}
	class := client.ErrRuleViolation
	if want == client.CodeNoPermission {
		class = client.ErrForbidden
	}
	if !errors.Is(err, class) {
		t.Errorf("%s: %v is not in class %v", name, err, class)
	}
	for code, sentinel := range ruleSentinels {
		if got := errors.Is(err, sentinel); got != (code == want) {
			t.Errorf("%s: errors.Is(err, %v) = %v", name, sentinel, got)
		}
	}
}

func TestStubCatalogue(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	cats := []struct {
		name string
		want []string
	}{
		{"", []string{"ECS", "OBS", "RDS", "BILLING"}},
		{"storage", []string{"OBS"}},
		{"STORAGE", []string{"OBS"}},
		{"no such product", []string{}},
	}
	for _, tc := range cats {
		got, err := f.demo.ListProductCategories(ctx, tc.name)
		ids := []string{}
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if err != nil || got == nil || !slices.Equal(ids, tc.want) {
			t.Errorf("ListProductCategories(%q) = %v, %v; want %v", tc.name, ids, err, tc.want)
		}
	}
	obs, _ := f.demo.ListProductCategories(ctx, "storage")
	want := client.ProductCategory{ID: "OBS", Name: "Object Storage Service", Description: "Buckets and objects", Acronym: "OBS", CanUseSupportPlan: true}
	if len(obs) != 1 || obs[0] != want {
		t.Errorf("OBS = %+v, want %+v", obs, want)
	}

	types := []struct {
		category string
		want     []string
	}{
		{"", []string{"ECS-CONSULT", "ECS-FAULT", "OBS-FAULT", "RDS-FAULT", "QUOTA", "BILL-QUESTION"}},
		{"ECS", []string{"ECS-CONSULT", "ECS-FAULT", "QUOTA"}},
		{"BILLING", []string{"BILL-QUESTION"}},
	}
	for _, tc := range types {
		got, err := f.demo.ListProblemTypes(ctx, tc.category)
		ids := []string{}
		for _, p := range got {
			ids = append(ids, p.ID)
		}
		if err != nil || !slices.Equal(ids, tc.want) {
			t.Errorf("ListProblemTypes(%q) = %v, %v; want %v", tc.category, ids, err, tc.want)
		}
	}
	ecs, _ := f.demo.ListProblemTypes(ctx, "ECS")
	if wantType := (client.ProblemType{ID: "ECS-FAULT", Name: "Instance unreachable", CaseType: client.CaseTypeFault, CanUseSupportPlan: true}); len(ecs) < 2 || ecs[1] != wantType {
		t.Errorf("ECS problem types = %+v, want %+v second", ecs, wantType)
	}
	before := f.requests()
	if _, err := f.demo.ListProblemTypes(ctx, strings.Repeat("x", client.MaxCatalogueIDLen+1)); !errors.As(err, new(*client.ArgumentError)) {
		t.Errorf("a long category: err = %v, want *ArgumentError", err)
	}
	if f.requests() != before {
		t.Error("an argument error sent a request")
	}
	assertAllValidated(t, f.stubHarness)
}

func TestStubCreateCase(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	tests := []struct {
		name string
		c    client.NewCase
		want string
	}{
		{"consultation", client.NewCase{ProblemTypeID: "ECS-CONSULT", ProductCategoryID: "ECS", Description: "Which flavors have GPUs?"}, ""},
		{"fault report with region", client.NewCase{ProblemTypeID: "ECS-FAULT", RegionID: "cn-south-1", Description: "Port 22 closed"}, ""},
		{"every optional field", client.NewCase{
			ProblemTypeID: "QUOTA", ProductCategoryID: "OBS", Description: "More buckets", ProjectID: "p1", SeverityID: "sev-2",
			SourceID: client.DefaultSourceID, RemindMobile: "13800000000", AreaCode: "86", RemindMail: "ops@example.com", RemindTime: "09:00-18:00",
		}, ""},
		{"fault report without region", client.NewCase{ProblemTypeID: "ECS-FAULT", Description: "Port 22 closed"}, client.CodeParamInvalid},
		{"unknown problem type", client.NewCase{ProblemTypeID: "NO-SUCH-TYPE", Description: "?"}, client.CodeParamInvalid},
		{"problem type of another category", client.NewCase{ProblemTypeID: "ECS-FAULT", ProductCategoryID: "OBS", RegionID: "r", Description: "?"}, client.CodeParamInvalid},
		{"unknown product category", client.NewCase{ProblemTypeID: "QUOTA", ProductCategoryID: "NOPE", Description: "?"}, client.CodeParamInvalid},
		{"another source", client.NewCase{ProblemTypeID: "QUOTA", SourceID: "console", Description: "?"}, client.CodeParamInvalid},
		{"unknown attachment", client.NewCase{ProblemTypeID: "QUOTA", Description: "?", AttachmentIDs: []string{"ACC999999"}}, client.CodeParamInvalid},
		{"no problem type", client.NewCase{Description: "?"}, "arg"},
		{"blank description", client.NewCase{ProblemTypeID: "QUOTA", Description: " \n"}, "arg"},
		{"long description", client.NewCase{ProblemTypeID: "QUOTA", Description: strings.Repeat("x", client.MaxDescriptionLen+1)}, "arg"},
		{"too many attachments", client.NewCase{ProblemTypeID: "QUOTA", Description: "?", AttachmentIDs: make([]string, client.MaxCaseAttachments+1)}, "arg"},
		{"control character in a header", client.NewCase{ProblemTypeID: "QUOTA", Description: "?", PhoneVerifiedID: "a\nb"}, "arg"},
	}
	var opened []string
	for _, tc := range tests {
		before := f.requests()
		id, err := f.demo.CreateCase(ctx, tc.c)
		checkOutcome(t, tc.name, err, tc.want)
		sent := f.requests() - before
		switch {
		case tc.want == "arg" && sent != 0:
			t.Errorf("%s: an argument error sent %d requests", tc.name, sent)
		case tc.want != "arg" && sent != 1:
			t.Errorf("%s: %d requests, want 1", tc.name, sent)
		case tc.want == "" && !strings.HasPrefix(id, "CS20261207") || tc.want != "" && id != "":
			t.Errorf("%s: id %q", tc.name, id)
		}
		if tc.want == "" {
			opened = append(opened, id)
		}
	}
	if len(opened) != 3 || opened[0] == opened[1] {
		t.Fatalf("opened %v", opened)
	}

	d, err := f.demo.ShowCase(ctx, opened[1], "")
	if err != nil {
		t.Fatal(err)
	}
	wantCase := client.Case{ID: opened[1], Status: client.StatusPending, Description: "Port 22 closed", ProblemType: "Instance unreachable",
		Kind: "Fault report", Creator: "demo", CreatorName: "demo", Region: "cn-south-1", Created: flowEpoch}
	if d.Case != wantCase || d.Source != client.DefaultSourceID || d.Judgement != "" || len(d.Satisfaction) != 0 {
		t.Errorf("ShowCase = %+v, want %+v from %s", d, wantCase, client.DefaultSourceID)
	}
	for i, m := range d.Messages {
		if m.ID == "" || m.Author != client.AuthorCustomer || m.First != (i == 0) || !m.Created.Equal(flowEpoch) {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	if st, err := f.demo.CaseStatus(ctx, opened[0]); err != nil || st != client.StatusPending {
		t.Errorf("CaseStatus = %v, %v; want pending", st, err)
	}
	assertAllValidated(t, f.stubHarness)
}

func TestStubVisibility(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	mine := f.open(t, f.demo, "mine")
	tests := []struct {
		name   string
		c      *client.Client
		id     string
		group  string
		want   string // ShowCase
		status string // CaseStatus, which takes no group; "-" not asserted
	}{
		{"owner", f.demo, mine, "", "", ""},
		{"owner with the group", f.demo, mine, "team", "", ""},
		// The contract gives ShowCaseStatus the caller's own tickets; the
		// stub shows a group member's too (store.mayRead). Not the
		// client's to decide.
		{"group member without the group", f.teammate, mine, "", client.CodeNoPermission, "-"},
		{"group member with the group", f.teammate, mine, "team", "", "-"},
		{"same account, not in the group", f.outsider, mine, "team", client.CodeNoPermission, client.CodeNoPermission},
		{"another account", f.stranger, mine, "", client.CodeUnknownTicket, client.CodeUnknownTicket},
		{"another account naming the group", f.stranger, mine, "team", client.CodeUnknownTicket, client.CodeUnknownTicket},
		{"unknown ticket", f.demo, "CS20990101999999", "", client.CodeUnknownTicket, client.CodeUnknownTicket},
		{"empty ID", f.demo, "", "", "arg", "arg"},
		{"long group", f.demo, mine, strings.Repeat("g", client.MaxGroupIDLen+1), "arg", ""},
	}
	for _, tc := range tests {
		d, err := tc.c.ShowCase(ctx, tc.id, tc.group)
		checkOutcome(t, tc.name+": ShowCase", err, tc.want)
		if tc.want == "" && d.ID != tc.id {
			t.Errorf("%s: ShowCase = %+v", tc.name, d)
		}
		if tc.status == "-" {
			continue
		}
		st, err := tc.c.CaseStatus(ctx, tc.id)
		checkOutcome(t, tc.name+": CaseStatus", err, tc.status)
		if tc.status == "" && st != client.StatusPending {
			t.Errorf("%s: CaseStatus = %v", tc.name, st)
		}
	}
	// The other account lists nothing of this one; naming a group it is
	// not in is refused.
	for _, opts := range []client.ListCasesOptions{{}, {CaseID: mine}} {
		got, total, err := f.stranger.ListCases(ctx, opts)
		if err != nil || len(got) != 0 || total != 0 {
			t.Errorf("stranger ListCases(%+v) = %+v, %d, %v; want nothing", opts, got, total, err)
		}
	}
	_, _, err := f.stranger.ListCases(ctx, client.ListCasesOptions{Group: "team"})
	checkOutcome(t, "stranger ListCases of the group", err, client.CodeNoPermission)
	assertAllValidated(t, f.stubHarness)
}

func TestStubUpdateCase(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	a := f.open(t, f.demo, "to cancel and delete")
	b := f.open(t, f.demo, "to close")
	team := f.open(t, f.teammate, "the teammate's")
	steps := []struct {
		name    string
		c       *client.Client
		id      string
		action  client.Action
		opts    client.UpdateOptions
		advance time.Duration // the stub's clock moves first
		want    string
		status  client.Status // after the step
	}{
		{"press a new ticket", f.demo, a, client.ActionPress, client.UpdateOptions{}, 0, client.CodePressTooSoon, client.StatusPending},
		{"press after the cool-down", f.demo, a, client.ActionPress, client.UpdateOptions{}, 31 * time.Minute, "", client.StatusPending},
		{"press again at once", f.demo, a, client.ActionPress, client.UpdateOptions{}, time.Minute, client.CodePressTooSoon, client.StatusPending},
		{"unknown action", f.demo, a, client.Action("reopen"), client.UpdateOptions{}, 0, client.CodeUnknownAction, client.StatusPending},
		{"close a pending ticket", f.demo, a, client.ActionClose, client.UpdateOptions{}, 0, client.CodeNoPermission, client.StatusPending},
		{"delete a pending ticket", f.demo, a, client.ActionDelete, client.UpdateOptions{}, 0, client.CodeNoPermission, client.StatusPending},
		{"cancel", f.demo, a, client.ActionCancel, client.UpdateOptions{Reason: "solved alone"}, 0, "", client.StatusCanceled},
		{"cancel again", f.demo, a, client.ActionCancel, client.UpdateOptions{}, 0, client.CodeNoPermission, client.StatusCanceled},
		{"delete", f.demo, a, client.ActionDelete, client.UpdateOptions{}, 0, "", client.StatusDeleted},
		{"unknown ticket", f.demo, "CS20990101999999", client.ActionCancel, client.UpdateOptions{}, 0, client.CodeUnknownTicket, 0},
		{"another member's without the group", f.demo, team, client.ActionCancel, client.UpdateOptions{}, 0, client.CodeNoPermission, client.StatusPending},
		{"another account's", f.stranger, b, client.ActionCancel, client.UpdateOptions{}, 0, client.CodeUnknownTicket, client.StatusPending},
		{"no action", f.demo, b, "", client.UpdateOptions{}, 0, "arg", client.StatusPending},
		{"long reason", f.demo, b, client.ActionCancel, client.UpdateOptions{Reason: strings.Repeat("r", client.MaxJudgementLen+1)}, 0, "arg", client.StatusPending},
		{"bad satisfaction", f.demo, b, client.ActionClose, client.UpdateOptions{Satisfaction: []client.Satisfaction{{Dimension: -1}}}, 0, "arg", client.StatusPending},
	}
	for _, s := range steps {
		f.clock.Advance(s.advance)
		err := s.c.UpdateCase(ctx, s.id, s.action, s.opts)
		checkOutcome(t, s.name, err, s.want)
		if s.want == client.CodeUnknownTicket {
			continue
		}
		d, err := f.demo.ShowCase(ctx, s.id, "team")
		if err != nil || d.Status != s.status {
			t.Errorf("%s: status %v, %v; want %v", s.name, d.Status, err, s.status)
		}
	}

	// A ticket being processed can be closed, with a judgement.
	f.setStatus(t, b, client.StatusProcessing)
	err := f.demo.UpdateCase(ctx, b, client.ActionClose, client.UpdateOptions{Judgement: "fast", Satisfaction: []client.Satisfaction{{Dimension: 1, Value: 5}}})
	if st, _ := f.demo.CaseStatus(ctx, b); err != nil || st != client.StatusCompleted {
		t.Errorf("close a processing ticket: %v, status %v", err, st)
	}
	// A group member may act on another's ticket through the group.
	if err := f.demo.UpdateCase(ctx, team, client.ActionCancel, client.UpdateOptions{Group: "team"}); err != nil {
		t.Errorf("cancel the teammate's ticket through the group: %v", err)
	}
	assertAllValidated(t, f.stubHarness)
}

func TestStubMessages(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	id := f.open(t, f.demo, "first words")
	acc, err := f.demo.UploadAttachment(ctx, "reboot.log", client.AttachmentForMessage, []byte("02:00:01 kernel: rebooting\n"))
	if err != nil {
		t.Fatalf("UploadAttachment: %v", err)
	}
	tests := []struct {
		name string
		c    *client.Client
		id   string
		m    client.NewMessage
		want string
	}{
		{"plain", f.demo, id, client.NewMessage{Content: "It rebooted again."}, ""},
		{"with an attachment", f.demo, id, client.NewMessage{Content: "The log.", AttachmentIDs: []string{acc}}, ""},
		{"a group member through the group", f.teammate, id, client.NewMessage{Content: "Seen it too.", Group: "team"}, ""},
		{"a group member without the group", f.teammate, id, client.NewMessage{Content: "Hello?"}, client.CodeNoPermission},
		{"another account", f.stranger, id, client.NewMessage{Content: "Hello?"}, client.CodeUnknownTicket},
		{"unknown ticket", f.demo, "CS20990101999999", client.NewMessage{Content: "Any news?"}, client.CodeUnknownTicket},
		{"unknown attachment", f.demo, id, client.NewMessage{Content: "x", AttachmentIDs: []string{"ACC999999"}}, client.CodeParamInvalid},
		{"blank", f.demo, id, client.NewMessage{Content: "  "}, "arg"},
		{"too long", f.demo, id, client.NewMessage{Content: strings.Repeat("x", client.MaxMessageLen+1)}, "arg"},
		{"too many attachments", f.demo, id, client.NewMessage{Content: "x", AttachmentIDs: make([]string, client.MaxMessageAttachments+1)}, "arg"},
	}
	for _, tc := range tests {
		checkOutcome(t, tc.name, tc.c.CreateMessage(ctx, tc.id, tc.m), tc.want)
	}

	got, total, err := f.demo.ListMessages(ctx, id, client.ListMessagesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var contents []string
	for _, m := range got {
		contents = append(contents, m.Content)
	}
	// The description is the ticket's first message.
	wantContents := []string{"first words", "It rebooted again.", "The log.", "Seen it too."}
	if total != 4 || !slices.Equal(contents, wantContents) {
		t.Fatalf("ListMessages = %q (total %d), want %q", contents, total, wantContents)
	}
	want := client.Message{Content: "The log.", Author: client.AuthorCustomer, Replier: "demo", ReplierName: "demo", Created: flowEpoch,
		Attachments: []client.AttachmentRef{{ID: acc, Name: "reboot.log"}}}
	want.First = false
	if !reflect.DeepEqual(got[2], want) || !got[0].First || got[2].First {
		t.Errorf("ListMessages[2] = %+v, want %+v; First %v %v", got[2], want, got[0].First, got[2].First)
	}
	// ShowCase has the same messages, with their IDs.
	d, err := f.demo.ShowCase(ctx, id, "")
	if err != nil || len(d.Messages) != 4 || d.Messages[2].ID == "" || !reflect.DeepEqual(d.Messages[2].Attachments, want.Attachments) {
		t.Errorf("ShowCase messages = %+v, %v", d.Messages, err)
	}

	pages := []struct {
		name  string
		c     *client.Client
		opts  client.ListMessagesOptions
		want  []string
		total int
		err   string
	}{
		{"second page", f.demo, client.ListMessagesOptions{Offset: 1, PageSize: 1}, wantContents[1:2], 4, ""},
		{"last page", f.demo, client.ListMessagesOptions{Offset: 2, PageSize: 2}, wantContents[2:], 4, ""},
		{"past the end", f.demo, client.ListMessagesOptions{Offset: 9}, nil, 4, ""},
		{"through the group", f.teammate, client.ListMessagesOptions{Group: "team", PageSize: 1}, wantContents[:1], 4, ""},
		{"without the group", f.teammate, client.ListMessagesOptions{}, nil, 0, client.CodeNoPermission},
		{"page too large", f.demo, client.ListMessagesOptions{PageSize: client.MaxPageSize + 1}, nil, 0, "arg"},
		{"negative page", f.demo, client.ListMessagesOptions{PageSize: -1}, nil, 0, "arg"},
		{"offset too large", f.demo, client.ListMessagesOptions{Offset: client.MaxOffset + 1}, nil, 0, "arg"},
	}
	for _, tc := range pages {
		got, total, err := tc.c.ListMessages(ctx, id, tc.opts)
		checkOutcome(t, tc.name, err, tc.err)
		contents := []string{}
		for _, m := range got {
			contents = append(contents, m.Content)
		}
		if tc.err == "" && (total != tc.total || !slices.Equal(contents, append([]string{}, tc.want...))) {
			t.Errorf("%s: %q (total %d), want %q (total %d)", tc.name, contents, total, tc.want, tc.total)
		}
	}
	assertAllValidated(t, f.stubHarness)
}

func TestStubUploads(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	lim, err := f.demo.AttachmentLimits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lim.Count != 5 || lim.SizeMB != 4 || len(lim.Types) != 16 || !slices.Contains(lim.Types, "log") || slices.Contains(lim.Types, "exe") {
		t.Errorf("AttachmentLimits = %+v", lim)
	}
	tests := []struct {
		name string
		file string
		from client.AttachmentFor
		data []byte
		want string
	}{
		{"a log for a message", "reboot.log", client.AttachmentForMessage, []byte("log"), ""},
		{"a capitalised type for a ticket", "SHOT.PNG", client.AttachmentForCase, []byte{0x89, 'P', 'N', 'G'}, ""},
		{"a type not allowed", "fix.exe", client.AttachmentForCase, []byte("MZ"), client.CodeParamInvalid},
		{"no extension", "README", client.AttachmentForCase, []byte("x"), client.CodeParamInvalid},
		{"no name", "", client.AttachmentForCase, []byte("x"), "arg"},
		{"no data", "a.txt", client.AttachmentForCase, nil, "arg"},
		{"unknown use", "a.txt", client.AttachmentFor("ticket"), []byte("x"), "arg"},
	}
	for _, tc := range tests {
		id, err := f.demo.UploadAttachment(ctx, tc.file, tc.from, tc.data)
		checkOutcome(t, tc.name, err, tc.want)
		if (tc.want == "") != strings.HasPrefix(id, "ACC") {
			t.Errorf("%s: id %q", tc.name, id)
		}
	}
	// An attachment uploaded for a ticket goes with CreateCase.
	acc, err := f.demo.UploadAttachment(ctx, "screen.png", client.AttachmentForCase, []byte("png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.demo.CreateCase(ctx, client.NewCase{ProblemTypeID: "QUOTA", Description: "see screen", AttachmentIDs: []string{acc}}); err != nil {
		t.Errorf("CreateCase with an attachment: %v", err)
	}
	assertAllValidated(t, f.stubHarness)
}

// The day's budget (20 MB in the stub) is spent by a file of the largest
// size (4 MB) after 16 MB uploaded before; the next byte waits for the
// next UTC day of the stub.
func TestStubUploadBudget(t *testing.T) {
	t.Parallel() // the largest file takes a while through the contract's checks
	f := newFlow(t)
	ctx := context.Background()
	// The earlier 16 MB go straight to the store: through the API they
	// would take four more of the largest files.
	lim := store.DefaultAccessoryLimits
	lim.SizeMB = 16
	if _, err := store.Upload(ctx, f.st, "demo", flowEpoch, "earlier.zip", "incident", make([]byte, 16<<20), lim); err != nil {
		t.Fatal(err)
	}
	if _, err := f.demo.UploadAttachment(ctx, "big.zip", client.AttachmentForCase, make([]byte, 4<<20)); err != nil {
		t.Fatalf("the largest file, filling the budget: %v", err)
	}
	_, err := f.demo.UploadAttachment(ctx, "small.txt", client.AttachmentForCase, []byte("x"))
	checkOutcome(t, "past the budget", err, client.CodeUploadBudget)
	// Another user has a budget of its own.
	if _, err := f.teammate.UploadAttachment(ctx, "small.txt", client.AttachmentForCase, []byte("x")); err != nil {
		t.Errorf("another user: %v", err)
	}
	f.clock.Advance(24 * time.Hour)
	if _, err := f.demo.UploadAttachment(ctx, "small.txt", client.AttachmentForCase, []byte("x")); err != nil {
		t.Errorf("the next day: %v", err)
	}
	assertAllValidated(t, f.stubHarness)
}

func TestStubCreateScore(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	done := f.open(t, f.demo, "done")
	f.setStatus(t, done, client.StatusCompleted)
	pending := f.open(t, f.demo, "pending")
	tests := []struct {
		name string
		c    *client.Client
		id   string
		s    client.Score
		want string
	}{
		{"judgement and values", f.demo, done, client.Score{Judgement: "Quick and clear.", Satisfaction: []client.Satisfaction{{Dimension: 1, Value: 5}, {Dimension: 3, Value: 4}}}, ""},
		{"nothing but the score", f.demo, done, client.Score{}, ""},
		{"a group member through the group", f.teammate, done, client.Score{Judgement: "ok", Group: "team"}, ""},
		{"a pending ticket", f.demo, pending, client.Score{Judgement: "?"}, client.CodeNoPermission},
		{"unknown dimension", f.demo, done, client.Score{Satisfaction: []client.Satisfaction{{Dimension: 2, Value: 5}}}, client.CodeParamInvalid},
		{"value too high", f.demo, done, client.Score{Satisfaction: []client.Satisfaction{{Dimension: 1, Value: 6}}}, client.CodeParamInvalid},
		{"unknown ticket", f.demo, "CS20990101999999", client.Score{}, client.CodeUnknownTicket},
		{"another account", f.stranger, done, client.Score{}, client.CodeUnknownTicket},
		{"negative value", f.demo, done, client.Score{Satisfaction: []client.Satisfaction{{Dimension: 1, Value: -1}}}, "arg"},
		{"long judgement", f.demo, done, client.Score{Judgement: strings.Repeat("j", client.MaxJudgementLen+1)}, "arg"},
	}
	for _, tc := range tests {
		checkOutcome(t, tc.name, tc.c.CreateScore(ctx, tc.id, tc.s), tc.want)
	}
	d, err := f.demo.ShowCase(ctx, done, "")
	wantSat := []client.Satisfaction{{Dimension: 1, Value: 5, Name: ""}, {Dimension: 3, Value: 4}}
	for i := range d.Satisfaction {
		d.Satisfaction[i].Name = "" // names are the stub's business
	}
	if err != nil || d.Judgement != "ok" || !reflect.DeepEqual(d.Satisfaction, wantSat) {
		t.Errorf("ShowCase after scoring: judgement %q, satisfaction %+v, %v; want ok, %+v", d.Judgement, d.Satisfaction, err, wantSat)
	}
	assertAllValidated(t, f.stubHarness)
}

func TestStubListCases(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	a := f.open(t, f.demo, "alpha disk")
	f.clock.Advance(time.Hour)
	b := f.open(t, f.demo, "beta DISK")
	f.setStatus(t, b, client.StatusProcessing)
	f.clock.Advance(time.Hour)
	c := f.open(t, f.teammate, "gamma disk")
	disk := []string{"disk"}
	tests := []struct {
		name string
		cl   *client.Client
		opts client.ListCasesOptions
		want []string
		err  string
	}{
		{"search key", f.demo, client.ListCasesOptions{SearchKeys: disk}, []string{b, a}, ""},
		{"two search keys", f.demo, client.ListCasesOptions{SearchKeys: []string{"disk", "beta"}}, []string{b}, ""},
		{"status", f.demo, client.ListCasesOptions{SearchKeys: disk, Statuses: []client.Status{client.StatusProcessing}}, []string{b}, ""},
		{"statuses", f.demo, client.ListCasesOptions{SearchKeys: disk, Statuses: []client.Status{client.StatusPending, client.StatusProcessing}}, []string{b, a}, ""},
		{"no status matches", f.demo, client.ListCasesOptions{SearchKeys: disk, Statuses: []client.Status{client.StatusCanceled}}, []string{}, ""},
		{"case ID", f.demo, client.ListCasesOptions{CaseID: a}, []string{a}, ""},
		{"from", f.demo, client.ListCasesOptions{SearchKeys: disk, From: flowEpoch.Add(30 * time.Minute)}, []string{b}, ""},
		{"to", f.demo, client.ListCasesOptions{SearchKeys: disk, To: flowEpoch.Add(30 * time.Minute)}, []string{a}, ""},
		{"from and to, both included", f.demo, client.ListCasesOptions{SearchKeys: disk, From: flowEpoch, To: flowEpoch.Add(time.Hour)}, []string{b, a}, ""},
		{"a zone other than UTC", f.demo, client.ListCasesOptions{SearchKeys: disk, From: flowEpoch.Add(30 * time.Minute).In(time.FixedZone("GMT+8", 8*3600))}, []string{b}, ""},
		{"the group's", f.demo, client.ListCasesOptions{SearchKeys: disk, Group: "team"}, []string{c, b, a}, ""},
		{"page size", f.demo, client.ListCasesOptions{SearchKeys: disk, Group: "team", PageSize: 2}, []string{c, b}, ""},
		{"offset", f.demo, client.ListCasesOptions{SearchKeys: disk, Group: "team", Offset: 2}, []string{a}, ""},
		{"the teammate's own", f.teammate, client.ListCasesOptions{SearchKeys: disk}, []string{c}, ""},
		{"four search keys", f.demo, client.ListCasesOptions{SearchKeys: []string{"a", "b", "c", "d"}}, nil, "arg"},
		{"empty search key", f.demo, client.ListCasesOptions{SearchKeys: []string{""}}, nil, "arg"},
		{"to before from", f.demo, client.ListCasesOptions{From: flowEpoch, To: flowEpoch.Add(-time.Second)}, nil, "arg"},
		{"page too large", f.demo, client.ListCasesOptions{PageSize: client.MaxPageSize + 1}, nil, "arg"},
		{"negative offset", f.demo, client.ListCasesOptions{Offset: -1}, nil, "arg"},
	}
	for _, tc := range tests {
		got, total, err := tc.cl.ListCases(ctx, tc.opts)
		checkOutcome(t, tc.name, err, tc.err)
		if tc.err != "" {
			continue
		}
		ids := []string{}
		for _, cs := range got {
			ids = append(ids, cs.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
		}
		if tc.opts.PageSize == 0 && tc.opts.Offset == 0 && total != len(tc.want) {
			t.Errorf("%s: total %d, want %d", tc.name, total, len(tc.want))
		}
	}
	got, total, err := f.demo.ListCases(ctx, client.ListCasesOptions{SearchKeys: disk, Group: "team", PageSize: 1})
	want := client.Case{ID: c, Status: client.StatusPending, Description: "gamma disk", ProblemType: "Product consultation", Kind: "Consultation",
		Creator: "teammate", CreatorName: "teammate", Created: flowEpoch.Add(2 * time.Hour)}
	if err != nil || total != 3 || len(got) != 1 || got[0] != want {
		t.Errorf("first page = %+v (total %d), %v; want %+v (total 3)", got, total, err, want)
	}
	assertAllValidated(t, f.stubHarness)
}

func TestStubIterators(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	var want []string // newest first
	for range 25 {
		want = slices.Insert(want, 0, f.open(t, f.demo, "paging test"))
	}
	opts := client.ListCasesOptions{SearchKeys: []string{"paging"}}
	msgCase := want[0]
	for i := 1; i <= 24; i++ {
		if err := f.demo.CreateMessage(ctx, msgCase, client.NewMessage{Content: "message " + strings.Repeat("I", i)}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("three pages", func(t *testing.T) {
		before := f.requests()
		var got []string
		for cs, err := range f.demo.Cases(ctx, opts) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, cs.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Cases = %v, want %v", got, want)
		}
		if n := f.requests() - before; n != 3 {
			t.Errorf("%d requests for 25 tickets, 10 a page; want 3", n)
		}
		before = f.requests()
		var msgs []client.Message
		for m, err := range f.demo.Messages(ctx, msgCase, client.ListMessagesOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, m)
		}
		// 24 messages and the description, the first.
		if n := f.requests() - before; len(msgs) != 25 || n != 3 || msgs[1].Content != "message I" || msgs[24].Content != "message "+strings.Repeat("I", 24) {
			t.Errorf("Messages: %d messages in %d requests, want 25 in 3", len(msgs), n)
		}
	})

	t.Run("page size and offset", func(t *testing.T) {
		before := f.requests()
		var got []string
		for cs, err := range f.demo.Cases(ctx, client.ListCasesOptions{SearchKeys: opts.SearchKeys, PageSize: 7, Offset: 4}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, cs.ID)
		}
		// 21 tickets from the fifth on: pages of 7, 7, 7 and an empty one.
		if !slices.Equal(got, want[4:]) || f.requests()-before != 4 {
			t.Errorf("Cases = %v in %d requests, want %v in 4", got, f.requests()-before, want[4:])
		}
	})

	t.Run("break stops", func(t *testing.T) {
		for _, stop := range []int{1, 10, 11} {
			before := f.requests()
			n := 0
			for _, err := range f.demo.Cases(ctx, opts) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == stop {
					break
				}
			}
			if wantReq := (stop-1)/10 + 1; f.requests()-before != wantReq {
				t.Errorf("break after %d: %d requests, want %d", stop, f.requests()-before, wantReq)
			}
			before = f.requests()
			n = 0
			for range f.demo.Messages(ctx, msgCase, client.ListMessagesOptions{PageSize: 5}) {
				if n++; n == stop {
					break
				}
			}
			if wantReq := (stop-1)/5 + 1; f.requests()-before != wantReq {
				t.Errorf("Messages, break after %d: %d requests, want %d", stop, f.requests()-before, wantReq)
			}
		}
	})

	t.Run("refusal yields once", func(t *testing.T) {
		for name, seq := range map[string]func(func(any, error) bool){
			"Cases of a bad page size": func(yield func(any, error) bool) {
				for cs, err := range f.demo.Cases(ctx, client.ListCasesOptions{PageSize: 1000}) {
					if !yield(cs, err) {
						return
					}
				}
			},
			"Messages of an unknown ticket": func(yield func(any, error) bool) {
				for m, err := range f.demo.Messages(ctx, "CS20990101999999", client.ListMessagesOptions{}) {
					if !yield(m, err) {
						return
					}
				}
			},
			"Messages of another account's ticket": func(yield func(any, error) bool) {
				for m, err := range f.stranger.Messages(ctx, msgCase, client.ListMessagesOptions{}) {
					if !yield(m, err) {
						return
					}
				}
			},
		} {
			var errs []error
			items := 0
			for _, err := range seq {
				if err != nil {
					errs = append(errs, err)
				} else {
					items++
				}
			}
			if len(errs) != 1 || items != 0 {
				t.Errorf("%s: %d items, errors %v; want one error", name, items, errs)
			}
		}
	})
	assertAllValidated(t, f.stubHarness)
}
