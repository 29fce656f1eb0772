package server

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// BenchmarkValidateResponses is BenchmarkHandler's token cases with the
// stub's own answers checked against the contract (Options.ValidateResponses)
// and without: the cost decides whether the binary checks by default.
//
//	go test -run '^$' -bench ValidateResponses -benchtime 20000x ./server/
func BenchmarkValidateResponses(b *testing.B) {
	token := []string{"X-Auth-Token", "demo-token"}
	ops := []struct {
		name string
		reqs func(b *testing.B) []*benchRequest
	}{
		{"create+delete", func(b *testing.B) []*benchRequest {
			return []*benchRequest{
				newBenchRequest(b, http.MethodPost, benchCreateBody, token...),
				newBenchRequest(b, http.MethodDelete, benchDeleteBody, token...),
			}
		}},
		{"list", func(b *testing.B) []*benchRequest {
			return []*benchRequest{newBenchRequest(b, http.MethodGet, "", token...)}
		}},
	}
	for _, o := range ops {
		for _, on := range []bool{false, true} {
			name := o.name + "/off"
			if on {
				name = o.name + "/on"
			}
			b.Run(name, func(b *testing.B) {
				s, err := New(Options{Logger: benchLogger(), Now: func() time.Time { return benchClock }, ValidateResponses: on})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = s.Close() })
				if err := s.Associate(context.Background(), "DEMO-1", "DEMO-3", "TEAM-1"); err != nil {
					b.Fatal(err)
				}
				reqs := o.reqs(b)
				w := &benchWriter{h: http.Header{}}
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					for _, r := range reqs {
						r.serve(b, s, w)
					}
				}
				cpu.report(b)
				if vs, total := s.Violations(); total != 0 {
					b.Fatalf("violations: %v", vs)
				}
			})
		}
	}
}
