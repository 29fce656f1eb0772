package server

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestWithStubServer(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
	}{
		{"regional hosts", "openapi: 3.0.3\nservers:\n  - url: https://osm.ap-southeast-1.myhuaweicloud.com\n  - url: https://osm.cn-north-4.myhuaweicloud.com\npaths: {}\n"},
		{"no servers", "openapi: 3.0.3\npaths: {}\n"},
		{"relative", "openapi: 3.0.3\nservers: [{url: /}]\npaths: {}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := withStubServer([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				OpenAPI string              `yaml:"openapi"`
				Servers []map[string]string `yaml:"servers"`
				Paths   map[string]any      `yaml:"paths"`
			}
			if err := yaml.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v in\n%s", err, out)
			}
			if len(got.Servers) != 1 || got.Servers[0]["url"] != "/" || got.OpenAPI != "3.0.3" || got.Paths == nil {
				t.Errorf("got\n%s", out)
			}
			if strings.Contains(string(out), "myhuaweicloud") {
				t.Errorf("a real host is left in\n%s", out)
			}
		})
	}
	for _, doc := range []string{"", "- a list", "{"} {
		if _, err := withStubServer([]byte(doc)); err == nil {
			t.Errorf("withStubServer(%q): no error", doc)
		}
	}
}
