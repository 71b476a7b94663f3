package edgeoutbox_test

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

func isStreamNotFound(err error) bool { return errors.Is(err, jetstream.ErrStreamNotFound) }

type headerMismatch struct{ header, envelope string }

func (h *headerMismatch) Error() string {
	return fmt.Sprintf("Nats-Msg-Id header %q differs from the envelope's idempotency key %q", h.header, h.envelope)
}
