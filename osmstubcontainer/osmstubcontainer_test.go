package osmstubcontainer_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubcontainer"
)

// start runs the image under test (OSM_STUB_IMAGE, which make test-image
// sets to the image it built) and terminates it when the test ends. Without
// a docker daemon the test is skipped, unless OSM_STUB_REQUIRE_DOCKER is set
// (as in CI), where that is a failure.
func start(t *testing.T, opts ...testcontainers.ContainerCustomizer) *osmstubcontainer.Container {
	t.Helper()
	if os.Getenv("OSM_STUB_REQUIRE_DOCKER") == "" {
		testcontainers.SkipIfProviderIsNotHealthy(t)
	}
	if img := os.Getenv("OSM_STUB_IMAGE"); img != "" {
		opts = append([]testcontainers.ContainerCustomizer{osmstubcontainer.WithImage(img)}, opts...)
	}
	ctx := context.Background()
	c, err := osmstubcontainer.Run(ctx, opts...)
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Errorf("Terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func caseIDs(rels []client.Relation) []string {
	ids := []string{}
	for _, r := range rels {
		ids = append(ids, r.CaseID)
	}
	return ids
}

// The demo user's client works at once, the state shows its change, and
// Reset brings back the start data.
func TestRunClientStateReset(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	if !strings.HasPrefix(c.URL, "http://") {
		t.Errorf("URL = %q", c.URL)
	}
	if err := c.Client.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team"); err != nil {
		t.Fatal(err)
	}
	rels, err := c.Client.ListRelations(ctx, "DEMO-1")
	if err != nil || !reflect.DeepEqual(caseIDs(rels), []string{"DEMO-2"}) {
		t.Fatalf("ListRelations after CreateRelations: %v, %v", caseIDs(rels), err)
	}
	state, err := c.State(ctx)
	if err != nil || !strings.Contains(string(state), `"DEMO-2"`) {
		t.Errorf("State: %s, %v", state, err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	rels, err = c.Client.ListRelations(ctx, "DEMO-1")
	if err != nil || len(rels) != 0 {
		t.Errorf("ListRelations after Reset: %v, %v", caseIDs(rels), err)
	}
}

// A fixtures file replaces the demo data; LoadFixtures replaces the state
// and refuses a data set that breaks a rule, naming the field.
func TestFixtures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "team.yaml")
	fixtures := `users:
  - {name: alice, groups: [ops], tokens: [alice-token]}
tickets:
  - {id: A-1, owner: alice, simple_description: "Disk full", relations: [A-2]}
  - {id: A-2, owner: alice, simple_description: "Alarm storm"}
`
	if err := os.WriteFile(path, []byte(fixtures), 0o644); err != nil {
		t.Fatal(err)
	}
	c := start(t, osmstubcontainer.WithFixtures(path))
	ctx := context.Background()
	alice, err := client.New(c.URL, client.WithToken("alice-token"))
	if err != nil {
		t.Fatal(err)
	}
	rels, err := alice.ListRelations(ctx, "A-1")
	if err != nil || !reflect.DeepEqual(caseIDs(rels), []string{"A-2"}) {
		t.Fatalf("ListRelations(A-1) on the fixtures: %v, %v", caseIDs(rels), err)
	}
	if _, err := c.Client.ListRelations(ctx, "A-1"); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("the demo token must be unknown with these fixtures: %v", err)
	}

	err = c.LoadFixtures(ctx, []byte(`{"users":[{"name":"bob","tokens":["bob-token"]}],"tickets":[{"id":"B-1","owner":"nobody","simple_description":"Lost"}]}`))
	var ce *osmstubcontainer.ControlError
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusBadRequest || !strings.Contains(ce.Body, "owner") {
		t.Fatalf("LoadFixtures with an unknown owner: %v", err)
	}
	if err := c.LoadFixtures(ctx, []byte(`{"users":[{"name":"bob","tokens":["bob-token"]}],"tickets":[{"id":"B-1","owner":"bob","simple_description":"Slow disk","relations":["B-2"]},{"id":"B-2","owner":"bob","simple_description":"Slow app"}]}`)); err != nil {
		t.Fatal(err)
	}
	bob, err := client.New(c.URL, client.WithToken("bob-token"))
	if err != nil {
		t.Fatal(err)
	}
	rels, err = bob.ListRelations(ctx, "B-2")
	if err != nil || !reflect.DeepEqual(caseIDs(rels), []string{"B-1"}) {
		t.Errorf("ListRelations(B-2) after LoadFixtures: %v, %v", caseIDs(rels), err)
	}
}

func TestWithFixturesMissingFile(t *testing.T) {
	_, err := osmstubcontainer.Run(context.Background(), osmstubcontainer.WithFixtures(filepath.Join(t.TempDir(), "none.yaml")))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Run with a missing fixtures file: %v", err)
	}
}
