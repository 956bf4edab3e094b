package adminapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// openAPIDocument is generated from the route list and the types of this
// package by TestOpenAPIDocument (go test ./shared/adminapi -run
// TestOpenAPIDocument -update), which also fails when it is stale.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3 document of the admin API (a copy).
func OpenAPI() []byte { return slices.Clone(openAPIDocument) }

// DocumentedRoutes lists the operations of an OpenAPI document as
// "METHOD /path" (paths as in the document, e.g. "GET
// /admin/v1/employees/{id}"), sorted.
func DocumentedRoutes(doc []byte) ([]string, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("adminapi: OpenAPI document: %w", err)
	}
	var out []string
	for path, item := range d.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
