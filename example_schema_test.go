package edgeoutbox_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeoutbox/edgeoutbox"
)

// cowFedDefinition is defined once, in the application's definitions package.
var cowFedDefinition = edgeoutbox.Define("cow_fed",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("cow"),
	edgeoutbox.OptionalInput("farmer"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("cow"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("cow"), edgeoutbox.Int),
	edgeoutbox.EntityVersion("version", edgeoutbox.From("cow"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float),
	edgeoutbox.OptionalPayload("name", edgeoutbox.FromAttr("farmer", "full_name"), edgeoutbox.String),
)

// DumpSchema writes (or extends) the schema file; call it from go generate, or run
// "edgeoutbox schema dump <definitions package>".
func ExampleDumpSchema() {
	dir, _ := os.MkdirTemp("", "schema")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, edgeoutbox.DefaultSchemaFile)

	res, err := edgeoutbox.DumpSchema(path, cowFedDefinition)
	fmt.Println(res.Added, res.Written, err)

	// Dumping again changes nothing.
	res, err = edgeoutbox.DumpSchema(path, cowFedDefinition)
	fmt.Println(res.Unchanged, res.Written, err)

	s, err := edgeoutbox.LoadSchemaFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range s.Versions("cow_fed") {
		fmt.Println(v.Version, v.Type, len(v.Payload), "payload fields")
	}
	// Output:
	// [cow_fed] true <nil>
	// [cow_fed] false <nil>
	// 1 domain 2 payload fields
}

// A definition that changed since the file was dumped is reported with the command
// that fixes it.
func ExampleSchema_CheckDefinitions() {
	s, _, _ := edgeoutbox.NewSchema("").With(cowFedDefinition)
	changed := edgeoutbox.Define("cow_fed",
		edgeoutbox.Input("cow"),
		edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Int),
	)
	err := s.CheckDefinitions(changed)
	fmt.Println(errors.Is(err, edgeoutbox.ErrSchemaDrift))
	fmt.Println(err)
	// Output:
	// true
	// cow_fed changed since event_schema.json was dumped; run "edgeoutbox schema dump --out <path of the schema file this program parsed> <definitions package>" or edgeoutbox.DumpSchema on that file (the schema was given as bytes to ParseSchema or built with NewSchema, so which file it came from is not known), then commit the changes
}

// Mistakes in a definition are reported, never panicked on.
func ExampleDefinition_Err() {
	d := edgeoutbox.Define("cow.fed",
		edgeoutbox.Input("cow"),
		edgeoutbox.RequiredPayload("weight", edgeoutbox.From("horse"), edgeoutbox.Float),
	)
	fmt.Println(d.Err())
	// Output:
	// edgeoutbox: event definition "cow.fed": event name "cow.fed" may hold only a-z, 0-9, '_' and '-' (it becomes a NATS subject token); payload field "weight": from unknown input "horse" (declare it with edgeoutbox.Input("horse") or OptionalInput)
}

// Compare reports what changed between two versions, and whether it breaks consumers.
func ExampleCompare() {
	s, _, _ := edgeoutbox.NewSchema("").With(cowFedDefinition)
	s, _, _ = s.With(edgeoutbox.Define("cow_fed",
		edgeoutbox.Input("cow"),
		edgeoutbox.OptionalInput("farmer"),
		edgeoutbox.EntityClass("class_name", edgeoutbox.From("cow"), edgeoutbox.String),
		edgeoutbox.EntityID("id", edgeoutbox.From("cow"), edgeoutbox.Int),
		edgeoutbox.EntityVersion("version", edgeoutbox.From("cow"), edgeoutbox.Int),
		edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float),
		edgeoutbox.RequiredPayload("breed", edgeoutbox.From("cow"), edgeoutbox.String),
	))
	for _, c := range s.Changes("cow_fed") {
		fmt.Println(c)
	}
	// Output:
	// v1→v2 field_added breed (string, required, from cow) [breaking]
	// v1→v2 field_removed name (was string, optional, from farmer.full_name) [breaking]
}
