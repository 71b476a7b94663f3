package edgeoutbox_test

import (
	"errors"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
)

func hbEvent(id int64, class, entity string) *edgeoutbox.Event {
	return &edgeoutbox.Event{ID: id, Name: "cow_fed", Entity: edgeoutbox.Entity{Class: class, ID: entity}}
}

func TestHoldBackChecksPerEntity(t *testing.T) {
	var hb edgeoutbox.HoldBack
	a1, b1, a2, none1, none2 := hbEvent(1, "Cow", "a"), hbEvent(2, "Cow", "b"), hbEvent(3, "Cow", "a"), hbEvent(4, "", ""), hbEvent(5, "", "")
	if err := hb.Check(a1); err != nil {
		t.Fatalf("nothing failed yet: %v", err)
	}
	hb.Fail(a1, edgeoutbox.Permanent(errors.New("too large")))
	hb.Fail(none1, errors.New("no entity"))
	if err := hb.Check(b1); err != nil {
		t.Errorf("another entity is held back: %v", err)
	}
	if err := hb.Check(none2); err != nil {
		t.Errorf("events without an entity are not ordered, but held back: %v", err)
	}
	err := hb.Check(a2)
	if !errors.Is(err, edgeoutbox.ErrHeldBack) {
		t.Fatalf("later event of a failed entity: %v, want ErrHeldBack", err)
	}
	if errors.Is(err, edgeoutbox.ErrPermanent) || errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
		t.Errorf("held back %v must not inherit a permanent cause, nor be unavailable", err)
	}

	var down edgeoutbox.HoldBack
	down.Fail(a1, edgeoutbox.Unavailable(errors.New("offline")))
	if err := down.Check(a2); !errors.Is(err, edgeoutbox.ErrHeldBack) || !errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
		t.Errorf("held back behind an outage: %v, want ErrHeldBack and unavailable", err)
	}
}

func TestHoldBackSettle(t *testing.T) {
	evs := []*edgeoutbox.Event{hbEvent(1, "Cow", "a"), hbEvent(2, "Cow", "a"), hbEvent(3, "Cow", "b"), hbEvent(4, "Cow", "a")}
	var ok edgeoutbox.HoldBack
	if got := ok.Settle(evs, make([]error, len(evs))); got != nil {
		t.Fatalf("all published: %v, want nil", got)
	}
	errs := []error{nil, errors.New("rejected"), nil, nil}
	var hb edgeoutbox.HoldBack
	got := hb.Settle(evs, errs)
	if got[0] != nil || got[2] != nil {
		t.Errorf("events before the failure, or of other entities, changed: %v", got)
	}
	if !errors.Is(got[3], edgeoutbox.ErrHeldBack) {
		t.Errorf("event after the failure of its entity: %v, want held back", got[3])
	}
}
