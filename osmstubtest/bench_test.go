package osmstubtest_test

import (
	"testing"

	"github.com/osmstub/osmstub/osmstubtest"
)

// BenchmarkRun is what a test pays to start a stub and stop it, per mode.
func BenchmarkRun(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			osmstubtest.RunWith(b, m.opts).Close() // the first start parses the contract
			b.ReportAllocs()
			for b.Loop() {
				s, err := osmstubtest.Start(m.opts)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
