package client

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// regions maps each region the service is known to run in to the host
// suffix of its endpoint. docs/fidelity.md gives the sources.
var regions = map[string]string{
	"cn-south-1":     "myhuaweicloud.com", // Chinese mainland (the SDK's table spells .cn)
	"ap-southeast-3": "myhuaweicloud.com", // international site
	"eu-west-101":    "myhuaweicloud.eu",  // Europe
}

// Endpoint returns the service's base URL in region, such as
// https://osm.ap-southeast-3.myhuaweicloud.com for "ap-southeast-3", for
// New. There is no region-less endpoint; an unknown region is an
// *ArgumentError that lists the known ones.
func Endpoint(region string) (string, error) {
	suffix, ok := regions[region]
	if !ok {
		known := strings.Join(slices.Sorted(maps.Keys(regions)), ", ")
		return "", &ArgumentError{"region", fmt.Sprintf("%q is not a region of the service (known: %s)", region, known)}
	}
	return "https://osm." + region + "." + suffix, nil
}
