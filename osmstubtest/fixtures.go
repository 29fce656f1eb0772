package osmstubtest

import (
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server/store"
)

// ReadFixtures reads a fixtures file, YAML or JSON, in the format the
// osm-stub binary's -fixtures flag takes, for Options.Fixtures. Its errors
// name the file, the line and the fixture field at fault.
func ReadFixtures(path string) (store.Dataset, error) {
	return fixtures.Load(path)
}

// ParseFixtures is ReadFixtures for fixtures already in memory (an
// embedded file, say).
func ParseFixtures(data []byte) (store.Dataset, error) {
	return fixtures.Parse("data", data)
}

// DemoFixtures returns the demo data set a stub serves by default, to
// extend or to compare with.
func DemoFixtures() store.Dataset { return fixtures.Demo() }
