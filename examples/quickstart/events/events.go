// Package events declares the application's events. "edgeoutbox gen" keeps
// event_schema.json next to this file and generates the typed helpers from it.
package events

import "github.com/edgeoutbox/edgeoutbox"

//go:generate go run github.com/edgeoutbox/edgeoutbox/cmd/edgeoutbox gen .

// CowFedEvent is the definition of cow_fed; the generated inputs struct is CowFed.
var CowFedEvent = edgeoutbox.Define("cow_fed",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("cow"),
	edgeoutbox.OptionalInput("farmer"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("cow"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("cow"), edgeoutbox.Int),
	edgeoutbox.EntityVersion("version", edgeoutbox.From("cow"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float),
	edgeoutbox.OptionalPayload("name", edgeoutbox.From("farmer"), edgeoutbox.String),
)
