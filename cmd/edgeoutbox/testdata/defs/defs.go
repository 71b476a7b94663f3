// Package defs holds the event definitions that the tests of "edgeoutbox schema dump"
// and "edgeoutbox schema check" run against. It lives under testdata so that
// "go build ./..." ignores it; an explicit import path still reaches it.
package defs

import (
	eo "github.com/edgeoutbox/edgeoutbox"
)

// CowFed is version 2 of cow_fed in schema_v1.json's history: weight became a float,
// and an optional farmer input and name field were added.
var CowFed = eo.Define("cow_fed",
	eo.EventType("domain"),
	eo.Input("cow"),
	eo.OptionalInput("farmer"),
	eo.EntityClass("class_name", eo.From("cow"), eo.String),
	eo.EntityID("id", eo.From("cow"), eo.Int),
	eo.EntityVersion("version", eo.From("cow"), eo.Int),
	eo.RequiredPayload("weight", eo.From("cow"), eo.Float),
	eo.OptionalPayload("name", eo.From("farmer"), eo.String),
)

var (
	// CowWeighed is new: not in schema_v1.json.
	CowWeighed = eo.Define("cow_weighed",
		eo.Input("cow"),
		eo.EntityClass("class_name", eo.From("cow"), eo.String),
		eo.EntityID("id", eo.From("cow"), eo.Int),
		eo.RequiredPayload("kg", eo.FromAttr("cow", "weight"), eo.Float),
	)

	// barnCleaned is unexported: the dump cannot reach it and says so.
	barnCleaned = eo.Define("barn_cleaned", eo.Input("barn"))

	// NotADefinition is not set with Define and is ignored.
	NotADefinition = "cow_fed"
)

var _ = barnCleaned
