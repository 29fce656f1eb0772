package client_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/client"
)

func TestEndpoint(t *testing.T) {
	tests := []struct{ region, want string }{
		{"cn-south-1", "https://osm.cn-south-1.myhuaweicloud.com"},
		{"ap-southeast-3", "https://osm.ap-southeast-3.myhuaweicloud.com"},
		{"eu-west-101", "https://osm.eu-west-101.myhuaweicloud.eu"},
	}
	for _, tt := range tests {
		got, err := client.Endpoint(tt.region)
		if err != nil || got != tt.want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", tt.region, got, err, tt.want)
		}
		if _, err := client.New(got, client.WithToken("t")); err != nil {
			t.Errorf("New(%q): %v", got, err)
		}
	}
	for _, bad := range []string{"", "cn-north-4x", "myhuaweicloud.com"} {
		_, err := client.Endpoint(bad)
		if !errors.Is(err, client.ErrValidation) || !strings.Contains(err.Error(), "ap-southeast-3") {
			t.Errorf("Endpoint(%q) = %v, want an ErrValidation listing the regions", bad, err)
		}
	}
}

// The endpoint of a region, for New.
func ExampleEndpoint() {
	url, err := client.Endpoint("ap-southeast-3")
	if err != nil {
		panic(err)
	}
	fmt.Println(url)
	c, err := client.New(url, client.WithToken("an IAM token"))
	fmt.Println(c != nil, err)
	// Output:
	// https://osm.ap-southeast-3.myhuaweicloud.com
	// true <nil>
}
