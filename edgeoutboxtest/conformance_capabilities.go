package edgeoutboxtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// capEvents makes events for direct calls on a transport, without an engine.
type capEvents struct {
	prefix string
	next   int64
	all    []*edgeoutbox.Event
}

func (c *capEvents) make(order string) *edgeoutbox.Event {
	c.next++
	v := c.next
	ev := &edgeoutbox.Event{
		ID:             c.next,
		IdempotencyKey: c.prefix + strconv.FormatInt(c.next, 10),
		Name:           ConformanceEvent.Name(),
		Type:           "domain",
		Version:        1,
		Entity:         edgeoutbox.Entity{Class: "order", ID: order, Version: &v},
		Payload:        []byte(fmt.Sprintf(`{"amount":%d.5,"note":"capability"}`, c.next)),
		OccurredAt:     time.Now().UTC(),
		CreatedAt:      time.Now().UTC(),
	}
	return ev
}

func (c *capEvents) batch(n, orders int) []*edgeoutbox.Event {
	out := make([]*edgeoutbox.Event, n)
	for i := range out {
		out[i] = c.make("o-" + strconv.Itoa(i%orders))
	}
	return out
}

func (c *capEvents) sent(evs ...*edgeoutbox.Event) { c.all = append(c.all, evs...) }

func (c *capEvents) receipts() []edgeoutbox.Receipt {
	out := make([]edgeoutbox.Receipt, len(c.all))
	for i, ev := range c.all {
		out[i] = edgeoutbox.Receipt{ID: ev.ID, IdempotencyKey: ev.IdempotencyKey}
	}
	return out
}

// testCapabilities calls every capability the transport has directly: Publish,
// PublishBatch (also empty), StartBatch with two batches in flight, WaitAvailable while
// up, and, when the harness can stop the broker, Publish and WaitAvailable across a
// real outage: bounded, classed Unavailable, and working again after the restart.
func testCapabilities(t *testing.T, h *Harness) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tr := h.Transport
	evs := &capEvents{prefix: fmt.Sprintf("cap-%d-", time.Now().UnixNano())}

	one := evs.make("o-0")
	if err := tr.Publish(ctx, one); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	evs.sent(one)

	if bt, ok := tr.(edgeoutbox.BatchTransport); ok {
		if errs := bt.PublishBatch(ctx, nil); errs != nil {
			t.Errorf("PublishBatch of no events = %v, want nil", errs)
		}
		b := evs.batch(12, 3)
		if errs := bt.PublishBatch(ctx, b); errs != nil {
			t.Fatalf("PublishBatch: %v", errs)
		}
		evs.sent(b...)
	}
	if pt, ok := tr.(edgeoutbox.PipelinedTransport); ok {
		b1, b2 := evs.batch(10, 4), evs.batch(10, 4)
		w1 := pt.StartBatch(ctx, b1)
		w2 := pt.StartBatch(ctx, b2) // two batches in flight, as the relay does
		if errs := w1(); errs != nil {
			t.Fatalf("StartBatch (first): %v", errs)
		}
		if errs := w2(); errs != nil {
			t.Fatalf("StartBatch (second): %v", errs)
		}
		evs.sent(b1...)
		evs.sent(b2...)
	}
	aw, waits := tr.(edgeoutbox.AvailabilityWaiter)
	if waits {
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		err := aw.WaitAvailable(wctx)
		wcancel()
		if err != nil {
			t.Fatalf("WaitAvailable while the broker is up: %v", err)
		}
	}
	s := &suite{t: t, h: h, ctx: ctx}
	checkOnceInOrder(t, s.received(len(evs.all)), evs.receipts())

	if h.StopBroker == nil || h.StartBroker == nil {
		return
	}
	h.StopBroker(t)
	down := evs.make("o-1")
	if err := tr.Publish(ctx, down); !errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
		t.Errorf("Publish while the broker is down: %v, want an Unavailable error", err)
	}
	if err := ctx.Err(); err != nil {
		t.Fatalf("Publish while the broker is down did not return in time: %v", err)
	}
	if waits {
		wctx, wcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := aw.WaitAvailable(wctx)
		wcancel()
		if err == nil {
			t.Errorf("WaitAvailable while the broker is down returned nil")
		}
	}
	h.StartBroker(t)
	if waits {
		if err := aw.WaitAvailable(ctx); err != nil {
			t.Fatalf("WaitAvailable after the restart: %v", err)
		}
	}
	// The broker is back: the event refused during the outage goes through (a
	// transport without WaitAvailable may need a few probes, as the relay gives it).
	var err error
	waitUntil(t, 60*time.Second, "a publish after the restart", func() (bool, error) {
		err = tr.Publish(ctx, down)
		if errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
			return false, nil
		}
		return true, err
	})
	evs.sent(down)
	checkOnceInOrder(t, s.received(len(evs.all)), evs.receipts())
}
