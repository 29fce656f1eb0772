package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server"
)

// X-Domain-Id and X-Security-Token count only when the signature covers
// them: added after signing, they are refused.
func TestUnsignedClaimsRefused(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	srv, err := server.New(server.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"X-Domain-Id", "X-Security-Token"} {
		t.Run(h, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/v2/servicerequest/cases/DEMO-1/relations", nil)
			if err := aksk.Sign(req, "DEMOAK0000000000000001", "demo-secret-key", now); err != nil {
				t.Fatal(err)
			}
			req.Header.Set(h, "demo-domain") // after signing
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), h+" is sent but not listed in SignedHeaders") {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			if vs := violation.CheckResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); len(vs) > 0 {
				t.Error(vs)
			}
		})
	}
}
