package edgeoutbox

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by edgeoutbox that has one of these causes
// matches it with errors.Is; typed errors below carry the details.
var (
	// ErrUnknownEvent is returned when an event name is not in the loaded schema.
	ErrUnknownEvent = errors.New("edgeoutbox: unknown event")
	// ErrUnknownVersion is returned when WithVersion names a version the schema does not have.
	ErrUnknownVersion = errors.New("edgeoutbox: unknown event version")
	// ErrDuplicateEvent is returned when an event with the same idempotency key is already
	// stored. Nothing is written and the caller's transaction stays usable.
	ErrDuplicateEvent = errors.New("edgeoutbox: duplicate event")
	// ErrInvalidInput is returned when an input or field is missing or cannot be cast.
	ErrInvalidInput = errors.New("edgeoutbox: invalid event input")
	// ErrInvalidDefinition is returned for a mistake in an event definition.
	ErrInvalidDefinition = errors.New("edgeoutbox: invalid event definition")
	// ErrInvalidSchemaFile is returned when a schema file cannot be parsed or is inconsistent.
	ErrInvalidSchemaFile = errors.New("edgeoutbox: invalid schema file")
	// ErrSchemaNotFound is returned when no schema file exists where one is expected.
	ErrSchemaNotFound = errors.New("edgeoutbox: schema file not found")
	// ErrOutboxFull is returned by Emit when a configured cap on pending events or outbox
	// bytes is reached. Nothing is written; emit again after the relay drains the backlog.
	ErrOutboxFull = errors.New("edgeoutbox: outbox full")
	// ErrClosed is returned by operations on a closed Engine.
	ErrClosed = errors.New("edgeoutbox: engine closed")
	// ErrNoTransport is returned by Start when Config.Transport is nil.
	ErrNoTransport = errors.New("edgeoutbox: no transport configured: set Config.Transport, e.g. edgeoutbox.NewMemoryTransport()")
	// ErrNotFound is returned when an event id does not exist (or is not a dead letter
	// where one is required).
	ErrNotFound = errors.New("edgeoutbox: event not found")
	// ErrDatabaseTooNew is returned when the database was migrated by a newer edgeoutbox.
	ErrDatabaseTooNew = errors.New("edgeoutbox: database was written by a newer edgeoutbox version")
	// ErrTransportUnavailable marks a transport error as "cannot reach the broker right
	// now". The relay counts no attempt for it and waits for connectivity. Wrap an error
	// with Unavailable to mark it.
	ErrTransportUnavailable = errors.New("edgeoutbox: transport unavailable")
	// ErrPermanent marks a transport error as permanent: the event is dead-lettered at
	// once. Wrap an error with Permanent to mark it.
	ErrPermanent = errors.New("edgeoutbox: permanent publish failure")
)

// InputError describes an input or field of an event that is missing or cannot be cast.
// It matches ErrInvalidInput with errors.Is.
type InputError struct {
	Event   string // event name
	Field   string // field (or input) name
	GoType  string // Go type of the value received, "" when missing
	Problem string // what is wrong, e.g. "is required" or "cannot be cast to int"
}

// Error implements error.
func (e *InputError) Error() string {
	if e.GoType == "" {
		return fmt.Sprintf("edgeoutbox: event %q: field %q %s", e.Event, e.Field, e.Problem)
	}
	return fmt.Sprintf("edgeoutbox: event %q: field %q: value of Go type %s %s", e.Event, e.Field, e.GoType, e.Problem)
}

// Is reports whether target is ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// DefinitionError describes a mistake in an event definition.
// It matches ErrInvalidDefinition with errors.Is.
type DefinitionError struct {
	Event   string
	Problem string
}

// Error implements error.
func (e *DefinitionError) Error() string {
	if e.Event == "" {
		return "edgeoutbox: invalid definition: " + e.Problem
	}
	return fmt.Sprintf("edgeoutbox: event definition %q: %s", e.Event, e.Problem)
}

// Is reports whether target is ErrInvalidDefinition.
func (e *DefinitionError) Is(target error) bool { return target == ErrInvalidDefinition }

// classedError wraps a transport error with a class sentinel.
type classedError struct {
	class error
	err   error
}

func (e *classedError) Error() string { return e.err.Error() }
func (e *classedError) Unwrap() []error {
	return []error{e.class, e.err}
}

// Unavailable marks err as a connectivity problem: the relay counts no attempt and
// waits until the transport is available again. Unavailable(nil) returns nil.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &classedError{class: ErrTransportUnavailable, err: err}
}

// Permanent marks err as a permanent failure: the event is dead-lettered at once.
// Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &classedError{class: ErrPermanent, err: err}
}

// Error classes recorded with a failed publish (Event.LastErrorClass).
const (
	ErrorClassTransient   = "transient"
	ErrorClassPermanent   = "permanent"
	ErrorClassMaxAttempts = "max_attempts"
)

func errorClass(err error) string {
	if errors.Is(err, ErrPermanent) {
		return ErrorClassPermanent
	}
	return ErrorClassTransient
}
