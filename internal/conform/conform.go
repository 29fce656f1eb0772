// Package conform is the conformance run: a short, safe scenario played
// against any implementation of the OSM v2 ticket API (the live service,
// a stub, another mock). Every answer is validated against openapi.yaml and
// compared with what this project's stub answers to the same request, so a
// report says, check by check, where the endpoint, the contract and the
// stub part ways.
//
// The run acts only on the two to five tickets it is given: it records
// their associations first, creates associations only between them (an
// unknown ticket is a random ID, only ever sent where it must be refused),
// and removes everything it created, also when it is interrupted: each
// pair is written down before the create that may make it is sent, and the
// cleanup runs with a context of its own. Of the ticket operations it only
// reads, or sends what must be refused (a cancel, a message and a score
// of an unknown ticket, an unknown action); it opens a ticket only with
// Config.AllowCreate, since on the live service a ticket reaches the
// support staff, and then cancels it in the cleanup.
package conform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// Config says what to run against.
type Config struct {
	// Endpoint is the implementation's base URL, such as
	// https://osm.ap-southeast-3.myhuaweicloud.com.
	Endpoint string
	// Credential authenticates every request but the wrong-credential check.
	Credential Credential
	// Cases are two to five tickets the credential's user owns; Needs says
	// which checks fewer tickets skip.
	Cases []string
	// Group is sent as group_id on creates and deletes when set.
	Group string
	// Timeout bounds each request; 0 means 30 s.
	Timeout time.Duration
	// AllowSkip lets a report with skipped checks be OK: without it a
	// check that could not run fails the run, so that too few tickets
	// cannot pass for conformance.
	AllowSkip bool
	// AllowCreate lets the run open one real ticket (with an attachment
	// and a message) and cancel it at the end. Against the live service
	// that ticket reaches Huawei's support staff, so it is off unless
	// asked for; without it those checks are skipped as opt-in.
	AllowCreate bool
}

// Needs says how many given tickets, free of associations, each part of
// the scenario needs. A ticket filled up to the limit takes three others,
// and one association too many takes one more ticket still: among four
// tickets none can ever have a fourth partner. A ticket that already holds
// associations elsewhere counts them, so fewer tickets may do.
var Needs = []struct {
	Cases  int
	Checks string
}{
	{2, "every check but the limit's"},
	{store.MaxRelations + 1, "limit: fill one ticket up to three associations, repeat at the limit"},
	{store.MaxRelations + 2, "limit: one association over the limit, refused from either side"},
}

// maxCases runs every check.
var maxCases = Needs[len(Needs)-1].Cases

// Report is the outcome of a run.
type Report struct {
	Endpoint string   `json:"endpoint"`
	Cases    []string `json:"cases"`
	Checks   []Check  `json:"checks"`
	// Cleanup says what the cleanup removed and whether every given
	// ticket ended with the associations it had at the start.
	Cleanup     []string `json:"cleanup"`
	Restored    bool     `json:"restored"`
	Interrupted bool     `json:"interrupted,omitempty"`
	// AllowSkip is Config.AllowSkip: skipped checks do not fail the run.
	AllowSkip bool `json:"allow_skip,omitempty"`
	// Opened lists the ticket the run opened (Config.AllowCreate), as soon
	// as the endpoint named it, and what the cleanup made of it. More than
	// one only when a create got no answer and the cleanup found tickets
	// by the run's marker.
	Opened []Opened `json:"opened,omitempty"`
}

// Opened is a ticket the run opened, and what became of it.
type Opened struct {
	// ID is the endpoint's ID of the ticket.
	ID string `json:"id"`
	// Canceled: the cleanup's cancel succeeded.
	Canceled bool `json:"canceled"`
	// Status is the ticket's status after the cleanup (4 is canceled), nil
	// when it could not be read.
	Status *int `json:"status,omitempty"`
}

// Count returns how many checks have verdict v.
func (r *Report) Count(v Verdict) int {
	n := 0
	for _, c := range r.Checks {
		if c.Verdict == v {
			n++
		}
	}
	return n
}

// OK reports whether every check passed (or was skipped, with AllowSkip,
// or is opt-in) and the cleanup restored the state.
func (r *Report) OK() bool {
	return r.Count(Differs)+r.Count(Violates)+r.Count(Failed) == 0 && r.Restored && !r.Interrupted &&
		(r.AllowSkip || r.missing() == 0)
}

// missing counts the skipped checks that are not opt-in: those that fail a
// run without AllowSkip.
func (r *Report) missing() int {
	n := 0
	for _, c := range r.Checks {
		if c.Verdict == Skipped && !c.OptIn {
			n++
		}
	}
	return n
}

// Errors of Run.
var (
	// ErrConfig: the Config cannot be run.
	ErrConfig = errors.New("conform: bad configuration")
	// ErrInterrupted: the run's context ended before the scenario did; the
	// report holds the checks so far and the cleanup.
	ErrInterrupted = errors.New("conform: interrupted")
)

// Run plays the scenario against cfg.Endpoint and returns the report. It
// returns an error wrapping ErrConfig before sending anything, or, with the
// report, one wrapping ErrInterrupted when ctx ended first. The cleanup
// runs in every case where something may have been created.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	// A redirect is reported, not followed: it could take the token to
	// another host.
	hc := &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r := &runner{
		cfg:  cfg,
		live: &endpoint{base: strings.TrimRight(cfg.Endpoint, "/"), cred: cfg.Credential, http: hc},
		rep:  &Report{Endpoint: server.RedactURL(cfg.Endpoint), Cases: cfg.Cases, Cleanup: []string{}, AllowSkip: cfg.AllowSkip}, // a report is shared
	}
	err := r.scenario(ctx)
	if ctx.Err() != nil {
		r.skipRest("interrupted")
	}
	r.cleanup(ctx.Err() != nil)
	if r.closeRef != nil {
		_ = r.closeRef()
	}
	if ctx.Err() != nil {
		r.rep.Interrupted = true
		return r.rep, fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
	}
	return r.rep, err
}

func checkConfig(cfg *Config) error {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if !strings.HasPrefix(cfg.Endpoint, "http://") && !strings.HasPrefix(cfg.Endpoint, "https://") {
		return fmt.Errorf("%w: endpoint %s: want an http:// or https:// URL", ErrConfig, server.RedactURL(cfg.Endpoint))
	}
	c := cfg.Credential
	if c.Token == "" && (c.AK == "" || c.SK == "") {
		return fmt.Errorf("%w: no credential: give a token, or an AK and an SK (%s, %s)", ErrConfig, client.EnvAK, client.EnvSK)
	}
	if n := len(cfg.Cases); n < Needs[0].Cases || n > maxCases {
		return fmt.Errorf("%w: %d tickets given, want %d to %d", ErrConfig, n, Needs[0].Cases, maxCases)
	}
	for i, id := range cfg.Cases {
		if id == "" || len(id) > 64 {
			return fmt.Errorf("%w: ticket %q: want 1 to 64 characters", ErrConfig, id)
		}
		if slices.Contains(cfg.Cases[:i], id) {
			return fmt.Errorf("%w: ticket %s is given twice", ErrConfig, id)
		}
	}
	return nil
}

type runner struct {
	cfg      Config
	live     *endpoint
	ref      *reference
	closeRef func() error
	rep      *Report
	before   map[string][]listed
	// created lists every pair a request may have associated, written
	// before that request is sent; the cleanup removes those that exist.
	created [][2]string
	// opening is set before the CreateCases of the ticket flow is sent;
	// opened is the endpoint's ID of the ticket, written as soon as the
	// answer names it (the cleanup cancels it), refOpened the stub's.
	// marker is a word of its description, so that the cleanup can find a
	// ticket whose create got no answer.
	opening           bool
	opened, refOpened string
	marker            string
	problemTypes      *Response // the endpoint's ListProblemTypes answer
}

// errStop ends the scenario early; the reason is in the report.
var errStop = errors.New("stop")

func (r *runner) scenario(ctx context.Context) error {
	if err := r.recordState(ctx); err != nil {
		if errors.Is(err, errStop) {
			return nil
		}
		return err
	}
	steps := []func(context.Context) error{r.tickets, r.ticketFlow, r.createAndList, r.refusals, r.limit, r.deleteAndList, r.badInputs, r.gateway}
	for _, step := range steps {
		if err := step(ctx); errors.Is(err, errStop) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}

// recordState lists every given ticket, then builds the reference stub
// from what the lists showed.
func (r *runner) recordState(ctx context.Context) error {
	r.before = map[string][]listed{}
	got := make([]Response, len(r.cfg.Cases))
	for i, id := range r.cfg.Cases {
		c := listCall(id)
		resp, err := r.live.send(ctx, c)
		if err != nil {
			r.fail(ctx, "list "+id+" (the state before)", c, err)
			r.skipRest("the state of " + id + " could not be read; nothing was changed")
			return errStop
		}
		got[i] = resp
		r.before[id] = resp.list()
	}
	ref, closeRef, err := newReference(r.cfg.Credential, r.cfg.Group, r.cfg.Cases, r.before)
	if err != nil {
		return err
	}
	r.ref, r.closeRef = ref, closeRef
	for i, id := range r.cfg.Cases {
		c := listCall(id)
		stub, err := r.ref.send(ctx, c)
		if err != nil {
			return err
		}
		r.add(judge("list "+id+" (the state before)", c, got[i], stub))
		if !got[i].succeeded() {
			r.skipRest("the state of " + id + " could not be read; nothing was changed")
			return errStop
		}
	}
	return nil
}

// step sends c to the endpoint and to the stub and records the check. It
// returns an error only when the run must end (ctx ended).
func (r *runner) step(ctx context.Context, name string, c call) error {
	_, err := r.exchange(ctx, name, c, c, hooks{})
	return err
}

// hooks are called by exchange around the endpoint's request.
type hooks struct {
	sending  func()         // just before the request is sent
	answered func(Response) // as soon as the endpoint answered
}

// exchange sends live to the endpoint and ref, the same request as the
// stub names it, to the stub, and records the check. It returns the two
// answers when both came (nil when the endpoint gave none), and an error
// only when the run must end (ctx ended).
func (r *runner) exchange(ctx context.Context, name string, live, ref call, h hooks) (*[2]Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if h.sending != nil {
		h.sending()
	}
	got, err := r.live.send(ctx, live)
	if err != nil {
		r.fail(ctx, name, live, err)
		return nil, ctx.Err()
	}
	if h.answered != nil {
		h.answered(got)
	}
	stub, err := r.ref.send(context.WithoutCancel(ctx), ref)
	if err != nil {
		return nil, err
	}
	r.add(judgeAs(name, live, got, stub, r.alias()))
	return &[2]Response{got, stub}, nil
}

// alias maps the stub's ID of the ticket the run opened to the
// endpoint's.
func (r *runner) alias() map[string]string {
	if r.refOpened == "" || r.opened == "" {
		return nil
	}
	return map[string]string{r.refOpened: r.opened}
}

// steps runs named calls in order.
func (r *runner) steps(ctx context.Context, named ...namedCall) error {
	for _, n := range named {
		if err := r.step(ctx, n.name, n.call); err != nil {
			return err
		}
	}
	return nil
}

type namedCall struct {
	name string
	call call
}

func (r *runner) add(c Check) { r.rep.Checks = append(r.rep.Checks, c) }

// fail records a request that got no answer: an interruption, or a
// failure of the endpoint.
func (r *runner) fail(ctx context.Context, name string, c call, err error) {
	if ctx.Err() != nil {
		r.skip(name, "interrupted while waiting for the answer")
		return
	}
	problem := "no answer: " + err.Error()
	if big := (*tooLargeError)(nil); errors.As(err, &big) {
		problem = err.Error() // an answer came, but too large to judge
	}
	r.add(Check{Name: name, Verdict: Failed, Request: c.describe(), Problems: []string{problem}})
}

func (r *runner) skip(name, reason string) {
	r.add(Check{Name: name, Verdict: Skipped, Reason: reason})
}

func (r *runner) skipRest(reason string) { r.skip("the rest of the run", reason) }

// remember writes down, before a request that may associate a and b is
// sent, that the cleanup must look for the pair. A pair that existed
// before the run is never the run's to remove.
func (r *runner) remember(a string, bs ...string) {
	for _, b := range bs {
		p := [2]string{a, b}
		if r.associatedBefore(a, b) || slices.Contains(r.created, p) {
			continue
		}
		r.created = append(r.created, p)
	}
}

func (r *runner) associatedBefore(a, b string) bool {
	has := func(x, y string) bool {
		return slices.ContainsFunc(r.before[x], func(l listed) bool { return l.CaseID == y })
	}
	return has(a, b) || has(b, a)
}

// pair picks the first two given tickets that are not associated and both
// have room for one more association.
func (r *runner) pair() (string, string, bool) {
	cases := r.cfg.Cases
	for i, a := range cases {
		for _, b := range cases[i+1:] {
			if !r.associatedBefore(a, b) && len(r.before[a]) < store.MaxRelations && len(r.before[b]) < store.MaxRelations {
				return a, b, true
			}
		}
	}
	return "", "", false
}

func (r *runner) createAndList(ctx context.Context) error {
	a, b, ok := r.pair()
	if !ok {
		r.skipRest("no two given tickets are unassociated with room for one more association, so the run creates nothing")
		return errStop
	}
	r.remember(a, b)
	return r.steps(ctx,
		namedCall{"create " + a + "-" + b, r.create(a, b)},
		namedCall{"list " + a + " shows " + b, listCall(a)},
		namedCall{"list " + b + " shows " + a + " (mutual)", listCall(b)},
		namedCall{"repeat create " + a + "-" + b + " (idempotent)", r.create(a, b)},
	)
}

// ab returns the pair createAndList associated.
func (r *runner) ab() (string, string) {
	a, b, _ := r.pair()
	return a, b
}

func (r *runner) refusals(ctx context.Context) error {
	a, _ := r.ab()
	unknown := randomID()
	r.remember(a, a)
	r.remember(a, unknown)
	return r.steps(ctx,
		namedCall{"self-association " + a + "-" + a, r.create(a, a)},
		namedCall{"unknown ticket: create " + a + "-" + unknown, r.create(a, unknown)},
		namedCall{"list " + a + " unchanged after the refusals", listCall(a)},
	)
}

// limit fills a up to three associations with given tickets and checks
// that a repeat still succeeds at the limit; then, when a given ticket is
// left that a is not associated with, that associating the two is refused
// from either side (a is full, or that ticket is: an association counts on
// both); then it removes the fillers.
func (r *runner) limit(ctx context.Context) error {
	a, b := r.ab()
	have := map[string]bool{b: true}
	for _, l := range r.before[a] {
		have[l.CaseID] = true
	}
	var room, full []string // given tickets not associated with a
	for _, c := range r.cfg.Cases {
		switch {
		case c == a || have[c]:
		case len(r.before[c]) < store.MaxRelations:
			room = append(room, c)
		default:
			full = append(full, c)
		}
	}
	need := store.MaxRelations - len(have)
	var fill []string
	filled := len(room) >= need
	if filled {
		fill, room = room[:need], room[need:]
		if err := r.fillUp(ctx, a, b, fill); err != nil {
			return err
		}
	} else {
		r.skip("limit: three associations on "+a, fmt.Sprintf("filling %s up to %d associations needs %d more given tickets with room; %s",
			a, store.MaxRelations, need-len(room), r.everyCheck()))
		room = nil // a has room: associating another ticket with room would succeed
	}
	if over := slices.Concat(room, full); len(over) == 0 {
		reason := "every given ticket is now associated with " + a + ", so none is left to be one too many; " + r.everyCheck()
		if !filled {
			reason = a + " has room and no given ticket is full, so no association can be one too many; " + r.everyCheck()
		}
		r.skip("limit: an association over the limit is refused", reason)
	} else {
		c := over[0]
		r.remember(a, c)
		r.remember(c, a)
		if err := r.steps(ctx,
			namedCall{"limit: " + a + "-" + c + ", over the limit, is refused", r.create(a, c)},
			namedCall{"limit: " + c + "-" + a + ", over the limit from the other side, is refused", r.create(c, a)},
			namedCall{"list " + a + " unchanged after the refusals over the limit", listCall(a)},
			namedCall{"list " + c + " unchanged after the refusals over the limit", listCall(c)},
		); err != nil {
			return err
		}
	}
	var named []namedCall
	for _, c := range fill {
		named = append(named, namedCall{"limit: delete " + a + "-" + c, r.del(a, c)})
	}
	return r.steps(ctx, named...)
}

// everyCheck says what a skipped limit check needs.
func (r *runner) everyCheck() string {
	return fmt.Sprintf("%d tickets free of associations run every check (%d given)", maxCases, len(r.cfg.Cases))
}

// fillUp associates a with each of fill, which brings it to three
// associations, and repeats the associations the run made at the limit.
func (r *runner) fillUp(ctx context.Context, a, b string, fill []string) error {
	var named []namedCall
	for _, c := range fill {
		r.remember(a, c)
		named = append(named, namedCall{"limit: create " + a + "-" + c, r.create(a, c)})
	}
	return r.steps(ctx, append(named,
		namedCall{"list " + a + " holds three associations", listCall(a)},
		namedCall{"limit: repeat create at the limit (idempotent)", r.create(a, append([]string{b}, fill...)...)},
	)...)
}

func (r *runner) deleteAndList(ctx context.Context) error {
	a, b := r.ab()
	return r.steps(ctx,
		namedCall{"delete " + a + "-" + b, r.del(a, b)},
		namedCall{"list " + a + " no longer shows " + b, listCall(a)},
		namedCall{"list " + b + " no longer shows " + a + " (mutual)", listCall(b)},
		namedCall{"delete again " + a + "-" + b + " (idempotent)", r.del(a, b)},
	)
}

// badInputs sends requests the contract refuses, each naming b, which is
// not associated with a at this point: if one were accepted, the lists
// after them would show it (and the cleanup would remove it).
func (r *runner) badInputs(ctx context.Context) error {
	a, b := r.ab()
	four := []string{b, randomID(), randomID(), randomID()}
	long := randomID() + strings.Repeat("X", 65)
	long = long[:65]
	r.remember(a, four...)
	r.remember(a, long)
	valid := r.create(a, b)
	asString := fmt.Sprintf(`{"related_id_list":%q%s}`, b, r.groupField())
	plain := valid
	plain.contentType = "text/plain"
	return r.steps(ctx,
		namedCall{"bad input: related_id_list as a string", relationsCall(http.MethodPost, a, asString)},
		namedCall{"bad input: four related IDs", r.create(a, four...)},
		namedCall{"bad input: a related ID of 65 characters", r.create(a, long)},
		namedCall{"bad input: trailing garbage after the JSON", relationsCall(http.MethodPost, a, valid.body+` {"related_id_list":[]}`)},
		namedCall{"bad input: Content-Type text/plain", plain},
		namedCall{"list " + a + " unchanged after the bad inputs", listCall(a)},
		namedCall{"list " + b + " unchanged after the bad inputs", listCall(b)},
	)
}

// gateway checks what the API gateway answers on its own.
func (r *runner) gateway(ctx context.Context) error {
	a, b := r.ab()
	bogus := listCall(a)
	bogus.bogus = true
	put := r.create(a, b)
	put.method = http.MethodPut
	r.remember(a, b)
	return r.steps(ctx,
		namedCall{"wrong credential", bogus},
		namedCall{"unknown method PUT", put},
	)
}

func listCall(id string) call { return relationsCall(http.MethodGet, id, "") }

func (r *runner) create(a string, related ...string) call {
	list, _ := json.Marshal(related)
	return relationsCall(http.MethodPost, a, `{"related_id_list":`+string(list)+r.groupField()+`}`)
}

func (r *runner) del(a, b string) call {
	id, _ := json.Marshal(b)
	return relationsCall(http.MethodDelete, a, `{"related_id":`+string(id)+r.groupField()+`}`)
}

func (r *runner) groupField() string {
	if r.cfg.Group == "" {
		return ""
	}
	g, _ := json.Marshal(r.cfg.Group)
	return `,"group_id":` + string(g)
}

// randomID returns a ticket ID that no service has issued: real IDs are
// CS followed by digits.
func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "NOSUCH-" + strings.ToUpper(hex.EncodeToString(b[:]))
}
