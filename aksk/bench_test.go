package aksk_test

import (
	"testing"

	"github.com/osmstub/osmstub/aksk"
)

// BenchmarkVerify measures the per-request cost a server pays.
func BenchmarkVerify(b *testing.B) {
	req := newReq(b, "POST", "https://osm.example.com/v2/servicerequest/cases/C1/relations", postBody)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Language", "en-us")
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	if err := aksk.Sign(req, testAK, testSK, testNow); err != nil {
		b.Fatal(err)
	}
	body := readBody(b, req)
	b.ReportAllocs()
	for b.Loop() {
		if err := aksk.Verify(req, body, testSK); err != nil {
			b.Fatal(err)
		}
	}
}
