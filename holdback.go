package edgeoutbox

import (
	"errors"
	"fmt"
)

// ErrHeldBack marks an event that a transport did not publish (or does not report
// published) because an earlier event of the same entity failed in the same batch.
// The relay keeps such an event pending with no attempt counted and sends it again
// after the earlier one, so the entity's order holds.
var ErrHeldBack = errors.New("edgeoutbox: held back behind an earlier event of the same entity")

// errHeldBack is the name the relay uses.
var errHeldBack = ErrHeldBack

// HoldBack applies the per-entity ordering rule within one batch: once an event of an
// entity fails, later events of that entity are held back. Every transport shipped with
// edgeoutbox uses it, and a custom BatchTransport should too:
//
//	var hb edgeoutbox.HoldBack
//	for i, ev := range events {
//		if errs[i] = hb.Check(ev); errs[i] != nil {
//			continue // held back: not sent
//		}
//		if errs[i] = send(ev); errs[i] != nil {
//			hb.Fail(ev, errs[i])
//		}
//	}
//
// Events without an entity are not ordered against each other and never held back.
// The zero value is ready to use; a HoldBack is for one batch and one goroutine.
type HoldBack struct {
	failed map[string]error // entity key -> first error of that entity
}

// Fail records that ev failed with err (nil err is ignored): later events of its
// entity are held back. Only the first failure of an entity is kept as the cause.
func (h *HoldBack) Fail(ev *Event, err error) {
	if err == nil || ev == nil {
		return
	}
	k := ev.Entity.key()
	if k == "" {
		return
	}
	if h.failed == nil {
		h.failed = make(map[string]error)
	}
	if h.failed[k] == nil {
		h.failed[k] = err
	}
}

// Holds reports whether an earlier event of ev's entity failed.
func (h *HoldBack) Holds(ev *Event) bool {
	if ev == nil || h.failed == nil {
		return false
	}
	k := ev.Entity.key()
	return k != "" && h.failed[k] != nil
}

// Check returns nil when ev may be published, or the error to report for it when an
// earlier event of its entity failed. That error matches ErrHeldBack and, when the
// earlier failure was Unavailable, ErrTransportUnavailable; never ErrPermanent: the
// held-back event itself is fine.
func (h *HoldBack) Check(ev *Event) error {
	if !h.Holds(ev) {
		return nil
	}
	return &heldBackError{ev: ev, cause: h.failed[ev.Entity.key()]}
}

// Settle enforces the rule on a batch's results after the fact, for transports that
// send a whole batch before any answer arrives (asynchronous producers): an event
// reported published after an earlier event of its entity failed is reported held
// back instead, so that the relay sends it again after the earlier one (a broker that
// de-duplicates by idempotency key drops the re-send). errs has one entry per event
// and is changed in place. Settle returns nil when every event was published, else
// errs. Call it on a fresh HoldBack: failures recorded earlier would hold back
// events that came before them.
func (h *HoldBack) Settle(events []*Event, errs []error) []error {
	anyErr := false
	for i, err := range errs {
		if err != nil {
			anyErr = true
			h.Fail(events[i], err)
			continue
		}
		if herr := h.Check(events[i]); herr != nil {
			errs[i] = herr
		}
	}
	if !anyErr {
		return nil
	}
	return errs
}

// heldBackError is the error of a held-back event; see HoldBack.Check.
type heldBackError struct {
	ev    *Event
	cause error
}

func (e *heldBackError) Error() string {
	return fmt.Sprintf("event %d (%s) held back: an earlier event of entity %s %s failed in this batch: %v",
		e.ev.ID, e.ev.Name, e.ev.Entity.Class, e.ev.Entity.ID, e.cause)
}

// Unwrap lets the error match ErrHeldBack and the cause's Unavailable class, but not
// the cause itself: a Permanent cause must not dead-letter the held-back event.
func (e *heldBackError) Unwrap() []error {
	if errors.Is(e.cause, ErrTransportUnavailable) {
		return []error{ErrHeldBack, ErrTransportUnavailable}
	}
	return []error{ErrHeldBack}
}
