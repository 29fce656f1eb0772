package osmstubcontainer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/osmstub/osmstub/osmstubcontainer"
)

// A test starts the stub's image, uses the ready client of the demo user and
// resets the state between cases.
func ExampleRun() {
	ctx := context.Background()
	stub, err := osmstubcontainer.Run(ctx, osmstubcontainer.WithImage("osmstub/osm-stub:latest"))
	defer stub.Terminate(ctx) // safe even when Run failed
	if err != nil {
		log.Fatal(err)
	}
	if err := stub.Client.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team"); err != nil {
		log.Fatal(err)
	}
	rels, err := stub.Client.ListRelations(ctx, "DEMO-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rels[0].CaseID, rels[0].Owner)
	if err := stub.Reset(ctx); err != nil {
		log.Fatal(err)
	}
}
