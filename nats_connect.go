package edgeoutbox

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// DialNATS connects to NATS the way an outbox needs: it never gives up. The defaults
// are MaxReconnects(-1) (reconnect forever), RetryOnFailedConnect(true) (a broker
// that is down at start is not an error: the connection keeps trying in the
// background), ReconnectWait of one second with jitter, and ReconnectBufSize(-1).
//
// The reconnect buffer is disabled on purpose: the outbox already holds every
// unpublished event durably, and a publish buffered in memory during an outage would
// be sent again by the relay after reconnecting (a duplicate in core mode). With the
// buffer off, a publish during an outage fails at once and is reported as unavailable.
//
// Options in opts are applied after the defaults and so override them. Connection
// handlers are not needed for [NATSTransport]: it follows the connection through
// (*nats.Conn).StatusChanged. If you add your own, note that with
// RetryOnFailedConnect the first successful connect fires the ConnectHandler, not
// the ReconnectHandler.
func DialNATS(url string, opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{
		nats.Name("edgeoutbox"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.ReconnectBufSize(-1),
	}
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		// The URL is not repeated: it may carry credentials.
		return nil, fmt.Errorf("dial nats: %w", err)
	}
	return nc, nil
}
