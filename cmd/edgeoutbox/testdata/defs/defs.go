// Package defs holds the event definitions the CLI tests dump.
package defs

import eo "github.com/edgeoutbox/edgeoutbox"

// CowFed is emitted when a cow is fed.
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
