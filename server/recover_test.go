package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// panickyStore panics in View once armed, as a bug below the handler would.
type panickyStore struct {
	store.Store
	armed atomic.Bool
}

func (p *panickyStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if p.armed.Load() {
		panic("boom")
	}
	return p.Store.View(ctx, fn)
}

// TestPanicIsA500: a panic on the request path is answered 500 OSM.0004
// naming only the request id, logged once, and the stub serves on.
func TestPanicIsA500(t *testing.T) {
	st := &panickyStore{Store: memory.New()}
	var logs bytes.Buffer
	srv, err := server.New(server.Options{Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	list := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/v2/servicerequest/cases/DEMO-1/relations", nil)
		req.Header.Set("X-Auth-Token", "demo-token")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	st.armed.Store(true)
	rec := list()
	var body struct{ ErrorCode, ErrorMsg string }
	_ = json.Unmarshal(rec.Body.Bytes(), &struct {
		ErrorCode *string `json:"error_code"`
		ErrorMsg  *string `json:"error_msg"`
	}{&body.ErrorCode, &body.ErrorMsg})
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != http.StatusInternalServerError || body.ErrorCode != server.CodeInternal || body.ErrorMsg != "internal error; request id "+id {
		t.Fatalf("got %d %s, want 500 %s naming request id %s", rec.Code, rec.Body, server.CodeInternal, id)
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("the answer shows the panic: %s", rec.Body)
	}
	if n := strings.Count(logs.String(), "unexpected failure"); n != 1 || !strings.Contains(logs.String(), "panic: boom") {
		t.Errorf("want one unexpected failure with the panic in the log, got:\n%s", logs.String())
	}
	st.armed.Store(false)
	if rec := list(); rec.Code != http.StatusOK {
		t.Errorf("after the panic: %d %s", rec.Code, rec.Body)
	}
}
