package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/internal/linksim"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// LinkRTTs are the round trips of the link benchmark: loopback, a good uplink, a
// cellular one and a satellite one.
var LinkRTTs = []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond}

// LinkTarget is the ratio to raw JetStream publishing the relay should reach at every
// round trip.
const LinkTarget = 0.8

// LinkReport is what LinkSuite measured.
type LinkReport struct {
	// Comparisons holds, per round trip, the relay's drain beside raw asynchronous
	// JetStream publishing of the same messages through the same simulated link.
	Comparisons []Comparison
	// Wire holds the bytes per event each layout put on the link.
	Wire []WireFigure
	// CPU holds processor time per event, relay against the raw baselines, with the
	// broker's own time apart.
	CPU []CPUFigure
	// Note says where the broker ran when it could not get its own process.
	Note string
}

// WireFigure is the traffic per event of one message layout through the link.
type WireFigure struct {
	Layout string
	// Up is bytes per event from the relay to the broker (messages); Down from the
	// broker back (acknowledgements).
	Up, Down float64
}

// CPUFigure is the processor time per event of one way of moving the backlog.
type CPUFigure struct {
	Name string
	// Client is this process's time per event (relay or raw loops, SQLite included).
	Client time.Duration
	// Broker is the broker's own process's time per event (0 when in-process).
	Broker time.Duration
}

// LinkSuite drains an n-event backlog (64 entities) to JetStream through a simulated
// link at each round trip in rtts, beside raw asynchronous JetStream publishing of the
// same messages through the same link, best of reps runs each; checks that the stream
// holds every event once in per-entity order after each relay drain; and measures
// wire bytes and CPU time per event. The broker runs in its own process (built from
// the module cache) when possible.
func LinkSuite(ctx context.Context, dir string, n, reps int, rtts []time.Duration) (LinkReport, error) {
	var rep LinkReport
	template := dbPath(dir, "link-backlog")
	if err := MakeBacklog(ctx, template, n); err != nil {
		return rep, err
	}
	msgs, err := backlogMessages(ctx, template, n)
	if err != nil {
		return rep, err
	}
	b, err := startBroker(ctx, filepath.Join(dir, "broker"), true)
	if err != nil {
		return rep, err
	}
	defer b.stop()
	rep.Note = b.note
	admin, err := nats.Connect(b.url)
	if err != nil {
		return rep, err
	}
	defer admin.Close()
	fresh := copyBacklog(dir, template)
	noDir := func() string { return "" }

	for _, rtt := range rtts {
		link := linksim.Link{RTT: rtt}
		var relayWire, rawWire WireFigure
		cmp, err := Compare(reps, LinkTarget,
			onFreshCopy(fresh, noDir, func(p, _ string) (Result, error) {
				res, w, err := relayOverLink(ctx, b, admin, link, p, n, envelope.LayoutEnvelopeHeaders)
				relayWire = w
				return res, err
			}),
			func() (Result, error) {
				res, w, err := rawOverLink(ctx, b, admin, link, msgs)
				rawWire = w
				return res, err
			})
		if err != nil {
			return rep, fmt.Errorf("link at %s round trip: %w", rtt, err)
		}
		rep.Comparisons = append(rep.Comparisons, cmp)
		if rtt == rtts[0] {
			relayWire.Layout = "relay, " + envelope.LayoutEnvelopeHeaders.String() + " (default)"
			rawWire.Layout = "raw jetstream, the same messages"
			rep.Wire = append(rep.Wire, relayWire, rawWire)
		}
	}

	// Bytes per event do not depend on the backlog's size: measure every other layout
	// on a smaller one.
	wn := min(n, 10000)
	wireTemplate := dbPath(dir, "wire-backlog")
	if err := MakeBacklog(ctx, wireTemplate, wn); err != nil {
		return rep, err
	}
	wireFresh := copyBacklog(dir, wireTemplate)
	for l := envelope.LayoutEnvelope; l <= envelope.LayoutCloudEventsJSON; l++ {
		var w WireFigure
		_, err := onFreshCopy(wireFresh, noDir, func(p, _ string) (Result, error) {
			res, wf, err := relayOverLink(ctx, b, admin, linksim.Link{}, p, wn, l)
			w = wf
			return res, err
		})()
		if err != nil {
			return rep, fmt.Errorf("layout %s: %w", l, err)
		}
		w.Layout = "relay, " + l.String()
		rep.Wire = append(rep.Wire, w)
	}

	cpu, err := cpuFigures(ctx, b, admin, fresh, msgs, n)
	if err != nil {
		return rep, err
	}
	rep.CPU = cpu
	return rep, nil
}

// resetStream deletes and re-creates stream EVENTS on events.>.
func resetStream(ctx context.Context, admin *nats.Conn) (jetstream.JetStream, error) {
	js, err := jetstream.New(admin)
	if err != nil {
		return nil, err
	}
	if err := js.DeleteStream(ctx, "EVENTS"); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("delete stream: %w", err)
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"},
		Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute})
	if err != nil {
		return nil, fmt.Errorf("create stream: %w", err)
	}
	return js, nil
}

// overLink starts a proxy to the broker and connects through it the way the relay's
// connection should be made (edgeoutbox.DialNATS: reconnect forever, no reconnect
// buffer).
func overLink(b *broker, link linksim.Link) (*linksim.Proxy, *nats.Conn, error) {
	p, err := linksim.Start(b.addr(), link)
	if err != nil {
		return nil, nil, err
	}
	nc, err := edgeoutbox.DialNATS("nats://"+p.Addr(), nats.ReconnectWait(50*time.Millisecond))
	if err == nil {
		err = nc.FlushTimeout(30 * time.Second)
	}
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		p.Close()
		return nil, nil, fmt.Errorf("connect through the link: %w", err)
	}
	return p, nc, nil
}

func rttName(rtt time.Duration) string {
	return fmt.Sprintf("%d ms RTT", rtt.Milliseconds())
}

// relayOverLink drains the backlog at path through the relay to a fresh stream over
// the link, then checks the stream.
func relayOverLink(ctx context.Context, b *broker, admin *nats.Conn, link linksim.Link, path string, n int, layout envelope.Layout) (Result, WireFigure, error) {
	js, err := resetStream(ctx, admin)
	if err != nil {
		return Result{}, WireFigure{}, err
	}
	p, nc, err := overLink(b, link)
	if err != nil {
		return Result{}, WireFigure{}, err
	}
	defer p.Close()
	defer nc.Close()
	tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithJetStream(), edgeoutbox.WithPublishTimeout(30*time.Second),
		edgeoutbox.WithLayout(layout, ""))
	if err != nil {
		return Result{}, WireFigure{}, err
	}
	up0, down0, bcpu0 := p.BytesUp(), p.BytesDown(), b.cpu()
	res, err := RelayDrain(ctx, path, n, "relay to jetstream, "+rttName(link.RTT), tr)
	if err != nil {
		return Result{}, WireFigure{}, err
	}
	res.BrokerCPU = b.cpu() - bcpu0
	w := WireFigure{Up: float64(p.BytesUp()-up0) / float64(n), Down: float64(p.BytesDown()-down0) / float64(n)}
	return res, w, CheckStreamOrder(ctx, js, n)
}

// rawOverLink publishes msgs asynchronously (at most DefaultNATSMaxPending awaiting an
// ack, every ack awaited) to a fresh stream over the link.
func rawOverLink(ctx context.Context, b *broker, admin *nats.Conn, link linksim.Link, msgs []*nats.Msg) (Result, WireFigure, error) {
	admJS, err := resetStream(ctx, admin)
	if err != nil {
		return Result{}, WireFigure{}, err
	}
	p, nc, err := overLink(b, link)
	if err != nil {
		return Result{}, WireFigure{}, err
	}
	defer p.Close()
	defer nc.Close()
	up0, down0, bcpu0 := p.BytesUp(), p.BytesDown(), b.cpu()
	res, err := publishAsync(ctx, nc, msgs)
	if err != nil {
		return Result{}, WireFigure{}, err
	}
	res.Name = "raw jetstream async, " + rttName(link.RTT)
	res.BrokerCPU = b.cpu() - bcpu0
	n := len(msgs)
	w := WireFigure{Up: float64(p.BytesUp()-up0) / float64(n), Down: float64(p.BytesDown()-down0) / float64(n)}
	return res, w, streamCount(ctx, admJS, n)
}

// publishAsync publishes msgs through nc with JetStream's asynchronous publish and
// waits for every ack; every ack must be a success.
func publishAsync(ctx context.Context, nc *nats.Conn, msgs []*nats.Msg) (Result, error) {
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second),
		jetstream.WithPublishAsyncMaxPending(edgeoutbox.DefaultNATSMaxPending))
	if err != nil {
		return Result{}, err
	}
	futures := make([]jetstream.PubAckFuture, len(msgs))
	start := time.Now()
	for i, m := range msgs {
		// A raw publisher blocks while the pending acks are at the limit, however
		// long the round trip (the default stall wait of 200 ms fails at 300 ms).
		f, err := js.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute))
		if err != nil {
			return Result{}, fmt.Errorf("raw publish %d: %w", i, err)
		}
		futures[i] = f
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	elapsed := time.Since(start)
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return Result{}, fmt.Errorf("raw publish %d: %w", i, err)
		}
	}
	return Result{Name: "raw jetstream async publish", Events: len(msgs), Elapsed: elapsed}, nil
}

// cpuFigures measures processor time per event with the broker reached directly
// (no proxy): the relay's drain against the raw SQLite drain plus raw JetStream
// publishing of the same messages.
func cpuFigures(ctx context.Context, b *broker, admin *nats.Conn, fresh func() (string, error), msgs []*nats.Msg, n int) ([]CPUFigure, error) {
	perEvent := func(d time.Duration) time.Duration { return d / time.Duration(n) }
	where := " (broker in its own process)"
	if !b.ownProcess() {
		where = " (broker in this process: its time is in the client column)"
	}

	relay, err := measure(onFreshCopy(fresh, func() string { return "" }, func(p, _ string) (Result, error) {
		js, err := resetStream(ctx, admin)
		if err != nil {
			return Result{}, err
		}
		nc, err := edgeoutbox.DialNATS(b.url)
		if err != nil {
			return Result{}, err
		}
		defer nc.Close()
		tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithJetStream(), edgeoutbox.WithPublishTimeout(30*time.Second))
		if err != nil {
			return Result{}, err
		}
		bcpu0 := b.cpu()
		res, err := RelayDrain(ctx, p, n, "relay", tr)
		res.BrokerCPU = b.cpu() - bcpu0
		if err == nil {
			err = streamCount(ctx, js, n)
		}
		return res, err
	}))
	if err != nil {
		return nil, fmt.Errorf("cpu of relay: %w", err)
	}
	sqlite, err := measure(onFreshCopy(fresh, func() string { return "" }, func(p, _ string) (Result, error) { return RawDrain(ctx, p, n) }))
	if err != nil {
		return nil, fmt.Errorf("cpu of raw sqlite drain: %w", err)
	}
	pub, err := measure(func() (Result, error) {
		js, err := resetStream(ctx, admin)
		if err != nil {
			return Result{}, err
		}
		nc, err := edgeoutbox.DialNATS(b.url)
		if err != nil {
			return Result{}, err
		}
		defer nc.Close()
		bcpu0 := b.cpu()
		res, err := publishAsync(ctx, nc, msgs)
		res.BrokerCPU = b.cpu() - bcpu0
		if err == nil {
			err = streamCount(ctx, js, n)
		}
		return res, err
	})
	if err != nil {
		return nil, fmt.Errorf("cpu of raw jetstream publish: %w", err)
	}
	return []CPUFigure{
		{Name: "relay drain to jetstream" + where, Client: perEvent(relay.CPU), Broker: perEvent(relay.BrokerCPU)},
		{Name: "raw SQLite drain + raw jetstream publish" + where, Client: perEvent(sqlite.CPU + pub.CPU), Broker: perEvent(pub.BrokerCPU)},
		{Name: "  of which raw SQLite drain", Client: perEvent(sqlite.CPU)},
		{Name: "  of which raw jetstream publish", Client: perEvent(pub.CPU), Broker: perEvent(pub.BrokerCPU)},
	}, nil
}
