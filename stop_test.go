package edgeoutbox_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// stopRuns is how many times each order of calls runs: the bugs this guards against
// showed in 1 to 4 runs out of 5.
func stopRuns() int {
	if testing.Short() {
		return 20
	}
	return 100
}

var stopEvent = edgeoutbox.Define("order_placed",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("order"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("order"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("order"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("total", edgeoutbox.From("order"), edgeoutbox.Float),
)

func stopSchema(t testing.TB) *edgeoutbox.Schema {
	s, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(stopEvent)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stopInputs(id int) edgeoutbox.Inputs {
	return edgeoutbox.Inputs{"order": map[string]any{"class_name": "Order", "id": id, "total": 1.5}}
}

// stopOrder is one order of calls a short-lived program makes; it returns after
// Stop or Close.
type stopOrder struct {
	name string
	run  func(t testing.TB, ctx context.Context, e *edgeoutbox.Engine)
}

func emitOne(t testing.TB, ctx context.Context, e *edgeoutbox.Engine) {
	if _, err := e.Emit(ctx, "order_placed", stopInputs(1)); err != nil {
		t.Fatal(err)
	}
}

func emitTxCommit(t testing.TB, ctx context.Context, e *edgeoutbox.Engine) {
	tx, err := e.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.EmitTx(ctx, tx, "order_placed", stopInputs(1)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func start(t testing.TB, ctx context.Context, e *edgeoutbox.Engine) {
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

func stop(t testing.TB, ctx context.Context, e *edgeoutbox.Engine) {
	stopCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := e.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func closeEngine(t testing.TB, _ context.Context, e *edgeoutbox.Engine) {
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func steps(name string, fs ...func(testing.TB, context.Context, *edgeoutbox.Engine)) stopOrder {
	return stopOrder{name: name, run: func(t testing.TB, ctx context.Context, e *edgeoutbox.Engine) {
		for _, f := range fs {
			f(t, ctx, e)
		}
	}}
}

var stopOrders = []stopOrder{
	steps("Start,Emit,Stop", start, emitOne, stop),
	steps("Start,EmitTx,Commit,Stop", start, emitTxCommit, stop),
	steps("Emit,Start,Stop", emitOne, start, stop),
	steps("EmitTx,Commit,Start,Stop", emitTxCommit, start, stop),
	steps("Start,Emit,Close", start, emitOne, closeEngine),
	steps("Start,EmitTx,Commit,Close", start, emitTxCommit, closeEngine),
	steps("Emit,Start,Close", emitOne, start, closeEngine),
}

// TestStopPublishesWhatWasDue runs every order of Start, Emit/EmitTx+Commit and
// Stop/Close many times with an always-available memory transport: each must end
// with the event published.
func TestStopPublishesWhatWasDue(t *testing.T) {
	for _, order := range stopOrders {
		t.Run(order.name, func(t *testing.T) {
			t.Parallel()
			for i := range stopRuns() {
				ctx := context.Background()
				mt := edgeoutbox.NewMemoryTransport()
				e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), fmt.Sprintf("run%d.db", i)),
					edgeoutbox.Config{Schema: stopSchema(t), Transport: mt})
				if err != nil {
					t.Fatal(err)
				}
				order.run(t, ctx, e)
				if got := mt.Len(); got != 1 {
					t.Fatalf("run %d: %d events published after %s, want 1", i, got, order.name)
				}
				e.Close()
			}
		})
	}
}

// TestStopWaitsForNATSToConnect is the short program that dials NATS, emits and stops
// at once: DialNATS connects in the background, and Stop waits for it (within its
// context) instead of giving up while the transport is still "unavailable".
func TestStopWaitsForNATSToConnect(t *testing.T) {
	t.Parallel()
	srv := natstest.StartServer(t)
	runs := stopRuns() / 4
	for i := range runs {
		ctx := context.Background()
		nc, err := edgeoutbox.DialNATS(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithEnsureStream("EVENTS", nil, 10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), fmt.Sprintf("run%d.db", i)),
			edgeoutbox.Config{Schema: stopSchema(t), Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		start(t, ctx, e)
		emitTxCommit(t, ctx, e)
		stop(t, ctx, e)
		st, err := e.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != 0 || st.Published != 1 {
			t.Fatalf("run %d: after Stop %d pending, %d published; want 0 and 1", i, st.Pending, st.Published)
		}
		e.Close()
		nc.Close()
	}
	check := srv.Connect(t)
	msgs, err := natstest.ReadStream(context.Background(), check, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != runs {
		t.Fatalf("stream holds %d messages, want %d (one per run)", len(msgs), runs)
	}
}

// TestStopEndsWhileEmitsGoOn: Stop drains what was stored when it was called, not
// what other goroutines keep emitting meanwhile.
func TestStopEndsWhileEmitsGoOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mt := edgeoutbox.NewMemoryTransport()
	e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), "outbox.db"), edgeoutbox.Config{Schema: stopSchema(t), Transport: mt})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	start(t, ctx, e)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			e.Emit(ctx, "order_placed", stopInputs(i%10))
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); mt.Len() < 100 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stop(t, ctx, e)
}
