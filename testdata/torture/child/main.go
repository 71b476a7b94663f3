// Command child is the process the reliability tests start, kill and restart: it opens
// an edgeoutbox engine on one database file, emits from several goroutines and relays
// to a JetStream server the test owns.
//
// Protocol on stdout, one line each, written only after the fact they state:
//
//	READY                 the engine is open (and the relay started, if any)
//	K <key>               Emit of the event with idempotency key <key> returned nil
//	DONE                  every emitter finished (-count reached) and, with -drain, the
//	                      outbox has no pending event left
//	ERR <message>         something failed; the process exits 1
//
// It is built by the tests with "go build" from inside the module; it is not part of
// the library.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/nats-io/nats.go"
)

// Tick is the event every child emits: entity Torture/<entity id> with a version that
// grows with each emit of that entity, so the tests can check per-entity order.
var Tick = edgeoutbox.Define("torture_tick",
	edgeoutbox.EventType("test"),
	edgeoutbox.Input("tick"),
	edgeoutbox.EntityClass("class", edgeoutbox.From("tick"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("tick"), edgeoutbox.String),
	edgeoutbox.EntityVersion("version", edgeoutbox.From("tick"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("seq", edgeoutbox.From("tick"), edgeoutbox.Int),
	edgeoutbox.OptionalPayload("pad", edgeoutbox.From("tick"), edgeoutbox.String),
)

// out serialises protocol lines; each is one write(2), so a line the parent reads is
// a fact even if the process is killed right after.
type out struct {
	mu sync.Mutex
	w  *os.File
}

func (o *out) line(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format+"\n", args...)
}

func main() {
	var (
		dbPath   = flag.String("db", "", "database file")
		natsURL  = flag.String("nats", "", "NATS URL; empty: no relay")
		stream   = flag.String("stream", "TORTURE", "JetStream stream name")
		dupWin   = flag.Duration("dup-window", 10*time.Minute, "stream duplicate window")
		emitters = flag.Int("emitters", 4, "emitting goroutines")
		count    = flag.Int("count", 0, "events per emitter; 0: until killed")
		entity   = flag.String("entity", "e", "entity id prefix (goroutine g emits entity <prefix><g>)")
		run      = flag.Int("run", 0, "run number: entity versions are run*1e6+seq, so they grow across restarts")
		pad      = flag.Int("pad", 0, "payload padding in bytes")
		leaseTTL = flag.Duration("lease-ttl", time.Second, "relay lease TTL")
		drain    = flag.Bool("drain", false, "after the emitters finish, wait until nothing is pending")
		syncLvl  = flag.String("sync", "FULL", "synchronous level")
		busy     = flag.Duration("busy-timeout", 0, "Config.BusyTimeout (0: the default)")
		until    = flag.String("until", "", "with -drain: first wait until this file exists (a relay that runs until told to finish)")
	)
	flag.Parse()
	o := &out{w: os.Stdout}
	if err := runChild(o, *dbPath, *natsURL, *stream, *dupWin, *emitters, *count, *entity, *run, *pad, *leaseTTL, *drain, *syncLvl, *until, *busy); err != nil {
		o.line("ERR %s", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
}

func runChild(o *out, dbPath, natsURL, stream string, dupWin time.Duration, emitters, count int, entity string, run, pad int,
	leaseTTL time.Duration, drain bool, syncLevel, until string, busy time.Duration) error {
	ctx := context.Background()
	schema, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(Tick)
	if err != nil {
		return err
	}
	cfg := edgeoutbox.Config{
		Schema:       schema,
		Synchronous:  edgeoutbox.Synchronous(syncLevel),
		LeaseTTL:     leaseTTL,
		PollInterval: 50 * time.Millisecond,
		BackoffBase:  50 * time.Millisecond,
		BackoffMax:   time.Second,
		MaxAttempts:  1000,
		BusyTimeout:  busy,
	}
	var nc *nats.Conn
	if natsURL != "" {
		nc, err = edgeoutbox.DialNATS(natsURL, nats.ReconnectWait(50*time.Millisecond))
		if err != nil {
			return err
		}
		defer nc.Close()
		tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithEnsureStream(stream, []string{"events.>"}, dupWin))
		if err != nil {
			return err
		}
		cfg.Transport = tr
	}
	e, err := edgeoutbox.Open(ctx, dbPath, cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	if cfg.Transport != nil {
		if err := e.Start(ctx); err != nil {
			return err
		}
	}
	o.line("READY")

	padding := strings.Repeat("x", pad)
	errc := make(chan error, emitters)
	var wg sync.WaitGroup
	for g := range emitters {
		wg.Go(func() {
			id := fmt.Sprintf("%s%d", entity, g)
			for seq := 1; count == 0 || seq <= count; seq++ {
				tick := map[string]any{"class": "Torture", "id": id, "version": run*1_000_000 + seq, "seq": seq}
				if pad > 0 {
					tick["pad"] = padding
				}
				began := time.Now()
				r, err := e.Emit(ctx, "torture_tick", edgeoutbox.Inputs{"tick": tick})
				if err != nil {
					errc <- fmt.Errorf("emit %s seq %d (after %s): %w", id, seq, time.Since(began).Round(time.Millisecond), err)
					return
				}
				o.line("K %s", r.IdempotencyKey)
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	if drain {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for until != "" {
			if _, err := os.Stat(until); err == nil {
				break
			}
			<-tick.C
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, err := e.Stats(ctx)
			if err != nil {
				return err
			}
			if st.Pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("drain: %d events still pending after 60s", st.Pending)
			}
			<-tick.C
		}
	}
	if err := e.Close(); err != nil {
		return err
	}
	o.line("DONE")
	return nil
}
