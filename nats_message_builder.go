package edgeoutbox

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/edgeoutbox/edgeoutbox/envelope"
)

// msgBuilder builds the relay's messages one at a time into the same nats.Msg, header
// map and body buffer. nats.go copies a message into its write buffer before
// PublishMsg returns and, with its own retries off, never reads it again, so nothing
// of one message needs to outlive its publish call: draining a backlog then allocates
// no header map and no body per event, which keeps the garbage collector, and the
// memory it needs, small. A builder belongs to one sender at a time.
type msgBuilder struct {
	msg  nats.Msg
	vals [envelope.MaxHeaders]string
	body []byte
}

// build returns the message of e, valid until the next call. An error means the event
// can never be sent (Permanent): a bad subject, a payload that is not JSON.
func (b *msgBuilder) build(t *NATSTransport, e *Event) (*nats.Msg, error) {
	if e == nil {
		return nil, Permanent(errors.New("publish to nats: nil event"))
	}
	subject := t.cfg.subject(e)
	if err := validSubject(subject); err != nil {
		return nil, Permanent(fmt.Errorf("publish event %d (%s): subject %q: %w", e.ID, e.Name, subject, err))
	}
	h := b.msg.Header
	if h == nil {
		h = make(nats.Header, envelope.MaxHeaders+1) // +1: Nats-Expected-Stream
		b.msg.Header = h
	}
	clear(h)
	b.msg.Subject, b.msg.Reply = subject, ""
	env := envelopeOf(e)
	var err error
	if t.cfg.layout.Layout == envelope.LayoutEnvelopeHeaders {
		// The default layout, on its allocation-lean path: header keys are already
		// canonical (assigned, not Set) and every value takes a slot of one array.
		b.body, err = envelope.AppendMarshal(b.body[:0], &env)
		n := 0
		env.EachHeader(func(key, value string) {
			b.vals[n] = value
			h[key] = b.vals[n : n+1 : n+1]
			n++
		})
		b.msg.Data = b.body
	} else {
		b.msg.Data, err = t.cfg.layout.Encode(&env, func(k, v string) { h[k] = append(h[k], v) })
	}
	if err != nil {
		return nil, Permanent(err)
	}
	return &b.msg, nil
}
