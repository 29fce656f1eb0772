package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

func TestRedactURL(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"", ""},
		{"https://osm.cn-south-1.myhuaweicloud.com", "https://osm.cn-south-1.myhuaweicloud.com"},
		{"https://osm.example:8443/base/", "https://osm.example:8443/base/"},
		{"https://user:secret@osm.example/", "https://xxxxx@osm.example/"},
		{"https://secret@osm.example", "https://xxxxx@osm.example"},
		{"https://u:p@ss@osm.example", "https://xxxxx@osm.example"},
		{"https://osm.example/?token=secret", "https://osm.example/?xxxxx"},
		{"https://osm.example/#secret", "https://osm.example/#xxxxx"},
		{"https://u:12/secret@osm.example", "https://xxxxx"},
		{"https://u:pa/secret@osm.example", "https://xxxxx"},
		{"https://u:secret%zz@osm.example", "https://xxxxx"},
		{"https://u:se cret@osm.example", "https://xxxxx"},
		{"https://u:secret@", "https://xxxxx"},
		{"u:secret@osm.example", "xxxxx"},
		{"secret", "xxxxx"},
		{"ftp://u:secret@osm.example", "ftp://xxxxx@osm.example"},
	}
	for _, c := range cases {
		if got := server.RedactURL(c.raw); got != c.want {
			t.Errorf("RedactURL(%q) = %q; want %q", c.raw, got, c.want)
		}
	}
}

// An upstream the proxy refuses is named without its user info.
func TestUpstreamErrorRedacted(t *testing.T) {
	u := &url.URL{Scheme: "ftp", User: url.UserPassword("osm-user", "secret"), Host: "osm.example"}
	_, err := server.New(server.Options{Upstream: u})
	if err == nil {
		t.Fatal("an ftp upstream was accepted")
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "osm-user") {
		t.Errorf("the error shows the user info: %v", err)
	}
	if !strings.Contains(err.Error(), "ftp://xxxxx@osm.example") {
		t.Errorf("the error does not name the upstream: %v", err)
	}
}
