package contract

import (
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/osmstub/osmstub/gen"
)

// exampleOrder maps "METHOD path status" to the names of the response's
// examples in the order openapi.yaml lists them; the parsed document keeps
// them in a map and loses that order.
var exampleOrder = sync.OnceValue(func() map[string][]string {
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	type operation struct {
		Responses map[string]struct {
			Content map[string]struct {
				Examples yaml.Node `yaml:"examples"`
			} `yaml:"content"`
		} `yaml:"responses"`
	}
	out := map[string][]string{}
	if err := yaml.Unmarshal(gen.OpenAPI, &doc); err != nil {
		return out
	}
	for path, item := range doc.Paths {
		for method, node := range item {
			var op operation
			if method == "parameters" || node.Decode(&op) != nil {
				continue
			}
			for status, resp := range op.Responses {
				ex := resp.Content["application/json"].Examples
				key := strings.ToUpper(method) + " " + path + " " + status
				for i := 0; i+1 < len(ex.Content); i += 2 {
					out[key] = append(out[key], ex.Content[i].Value)
				}
			}
		}
	}
	return out
})

// ExampleNames returns the names of the examples of a response declared
// inline in openapi.yaml, in document order (nil for a response declared
// through $ref, whose examples are in components).
func ExampleNames(method, path, status string) []string {
	return exampleOrder()[method+" "+path+" "+status]
}
