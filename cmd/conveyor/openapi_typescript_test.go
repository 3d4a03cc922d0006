package main

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// TestTypeScriptClientHasTodaysAPI: the OpenAPI document the TypeScript
// SDK's REST client is typed from (sdk/typescript/openapi.json, committed,
// so that npm's build needs no server) is the one the server serves. When
// the API changes, `npm run gen` in sdk/typescript writes it anew.
func TestTypeScriptClientHasTodaysAPI(t *testing.T) {
	s := startServer(t, nil)
	_, raw := s.callRaw("GET", "/openapi.json", nil)
	var served, committed any
	if err := json.Unmarshal(raw, &served); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../sdk/typescript/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &committed); err != nil {
		t.Fatalf("sdk/typescript/openapi.json: %v", err)
	}
	if !reflect.DeepEqual(served, committed) {
		t.Errorf("sdk/typescript/openapi.json is not the document the server serves: run `npm run gen` in sdk/typescript (after make build)")
	}
}
